"""Cursor paging: an opaque ``cursor`` in each page's ``next`` and ``previous`` links,
so a client walking a list sees every object once even while rows are added. Ordered by
the id (unique, never changed), or the view's ``cursor_ordering``."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = ("pk",)
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_ordering(self, request, queryset, view):
        return tuple(getattr(view, "cursor_ordering", self.ordering))
