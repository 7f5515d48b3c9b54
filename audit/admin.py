"""The admin base for tracked models: every write the admin makes carries a reason, and
history can be read but never edited. Registers nothing itself."""

from django.contrib import admin
from django.db import models
from django.http import HttpResponseNotAllowed
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from audit import reasons
from audit.diffs import display_value
from audit.history import recorded_change
from audit.reasons import describe, encode

# The reasons history rows written by the admin carry, stored as codes (shown in the
# reader's language: audit.reasons). The acting user, the source ("admin"), the client
# IP and the request id come from HistoryContextMiddleware.
ADDED_REASON = encode(reasons.ADDED_IN_ADMIN)
EDITED_REASON = encode(reasons.EDITED_IN_ADMIN)
DELETED_REASON = encode(reasons.DELETED_IN_ADMIN)


def _with_loaded_relations(record):
    """The object of a history record, its foreign keys filled from ``record``'s cache."""
    obj = record.history_object
    for field in obj._meta.concrete_fields:
        if field.many_to_one:
            record_field = record._meta.get_field(field.name)
            if record_field.is_cached(record):
                field.set_cached_value(obj, record_field.get_cached_value(record))
    return obj


class LabelledChanges(HistoricalRecordContextHelper):
    """The admin history's "changes" column in words: a status as its label ("At risk",
    not ``at_risk``), a fiscal period as "Q3 FY19", as the app's own history shows them."""

    def prepare_delta_change_value(self, change, value):
        model_field = self.model._meta.get_field(change.field)
        if model_field.choices or hasattr(model_field, "display_for_history"):
            return display_value(model_field, value, {})
        return super().prepare_delta_change_value(change, value)


class AuditedHistoryAdmin(SimpleHistoryAdmin):
    """``SimpleHistoryAdmin`` that gives every write a reason and keeps history read-only."""

    # Shown beside simple-history's own columns (date, user, reason, changes).
    history_list_display = ["source"]

    @admin.display(description=_("source"))
    def source(self, record):
        return record.history_source

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history ends its own version with select_related() and no names when the
        # model has no foreign key, which drops its select_related("history_user"): one
        # user query per version. Name the user and every tracked relation instead.
        relations = [
            field.name
            for field in history_manager.model.tracked_fields
            if isinstance(field, models.ForeignKey)
        ]
        return history_manager.filter(**{pk_name: object_id}).select_related(
            "history_user", *relations
        )

    def get_historical_record_context_helper(self, request, historical_record):
        return LabelledChanges(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, **kwargs):
        # Each version is listed by its object's __str__, which for a membership, status
        # update, progress summary or indicator value follows a foreign key. The object
        # simple-history builds for it is fresh each time, so give it the related rows
        # the history query already loaded, rather than a query per version.
        for record in historical_records:
            record.history_object = _with_loaded_relations(record)
            # Shown, never saved (history is read-only here): in the reader's language.
            if record.history_change_reason:
                record.history_change_reason = describe(record.history_change_reason)
        super().set_history_delta_changes(request, historical_records, **kwargs)

    def save_model(self, request, obj, form, change):
        obj._change_reason = EDITED_REASON if change else ADDED_REASON
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        # The context, not just obj._change_reason, so rows removed by a cascade
        # (a goal's memberships) carry the reason too.
        with recorded_change(reason=DELETED_REASON):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected" action. QuerySet.delete() still sends
        # post_delete per object for models with listeners, so each gets a history row.
        with recorded_change(reason=DELETED_REASON):
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        # Django's default formset.save() gives no hook to set a reason per object.
        instances = formset.save(commit=False)
        with recorded_change(reason=DELETED_REASON):
            for obj in formset.deleted_objects:
                obj.delete()
        for obj in instances:
            obj._change_reason = ADDED_REASON if obj._state.adding else EDITED_REASON
            obj.save()
        formset.save_m2m()

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's "version" page saves a POSTed form over the live object (a
        # revert) for anyone who may merely *view* the model: SIMPLE_HISTORY_REVERT_DISABLED
        # only hides its button. History is read-only in this admin, so the page is GET
        # only; a revert is a new change made on the object's own change page.
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, extra_context)
