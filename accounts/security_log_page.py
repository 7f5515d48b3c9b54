"""The security log: sign-in, single sign-on, second-factor and token events, newest
first, filtered by user and kind, for site administrators."""

from django.core.paginator import InvalidPage, Page, Paginator
from django.utils.translation import gettext as _

from accounts.forms import SecurityLogFilterForm
from accounts.models import SecurityEvent

PAGE_SIZE = 50


def page_for(params) -> tuple[SecurityLogFilterForm, Page]:
    """The filters as understood (bad values reported by ``form.problems`` and ignored)
    and the asked-for page of matching events. A page past the last shows the last."""
    form = SecurityLogFilterForm(params)
    events = SecurityEvent.objects.order_by("-at", "-id")
    if username := form.value("user"):
        events = events.filter(username__iexact=username)
    if kind := form.value("kind"):
        events = events.filter(kind=kind)
    paginator = Paginator(events, PAGE_SIZE)
    number = params.get("page") or 1
    try:
        page = paginator.page(number)
    except InvalidPage:
        form.add_problem(_("There is no page %(page)s; showing the nearest.") % {"page": number})
        page = paginator.get_page(number)
    return form, page
