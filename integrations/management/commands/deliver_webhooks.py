"""Send what the task queue left behind: events never dispatched, retries whose time has
come, deliveries whose worker died holding them. Once, or every ``--every`` seconds
(run beside the worker; docs/webhooks.md)."""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from integrations.delivery import sweep


class Command(BaseCommand):
    help = (
        "Dispatch undispatched webhook events and attempt every due or lapsed delivery, "
        "once or every --every seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep sweeping, every SECONDS seconds (default: once, then exit).",
        )

    def handle(self, *args, every=0, **options):
        if every < 0 or every > 86400:
            raise CommandError("--every must be between 1 and 86400 seconds (or 0: once).")
        stop = threading.Event()
        if every:
            # Stop between sweeps on Ctrl-C or SIGTERM. Set explicitly: a command started
            # in the background by a shell (`make serve`) inherits SIGINT ignored.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            result = sweep()
            if options["verbosity"] >= 1 and (result.dispatched or result.attempted or not every):
                self.stdout.write(
                    f"Dispatched {result.dispatched} event(s); attempted "
                    f"{result.attempted} delivery(ies), {result.delivered} delivered."
                )
            if not every:
                return
            stop.wait(every)
