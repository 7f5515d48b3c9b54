"""Fiscal periods: parsing what people write, the canonical form, time order, dates,
and storage in the database as a sortable key."""

import datetime

import pytest
from django import forms
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from milestones.models import Milestone
from strategies.forms import FiscalPeriodFormField
from strategies.periods import ONGOING_KEY, FiscalPeriod, fiscal_year_range
from tests.factories import MilestoneFactory

Q = FiscalPeriod  # FiscalPeriod(2019, 4) is Q4 FY19; FiscalPeriod(2019) is FY19
ONGOING = FiscalPeriod.ongoing()

modest = hypothesis_settings(max_examples=200, deadline=None)

periods = st.one_of(
    st.just(ONGOING),
    st.builds(FiscalPeriod, st.integers(1900, 2999), st.none() | st.integers(1, 4)),
)
# Dates whose fiscal year, for any start month, is within the supported range.
dates = st.dates(datetime.date(1901, 1, 1), datetime.date(2998, 12, 31))
start_months = st.integers(1, 12)


# -- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("Q4 FY 19", Q(2019, 4)),
        ("Q4 FY2019", Q(2019, 4)),
        ("Q4 FY 2019", Q(2019, 4)),
        ("q4 fy19", Q(2019, 4)),
        ("Q4FY19", Q(2019, 4)),
        ("Q 4 FY19", Q(2019, 4)),
        ("Q3 FY18", Q(2018, 3)),
        ("Q1 FY00", Q(2000, 1)),
        ("FY19", Q(2019)),
        ("FY 2019", Q(2019)),
        ("fy 19", Q(2019)),
        ("FY'19", Q(2019)),
        ("FY1999", Q(1999)),
        ("Ongoing", ONGOING),
        ("ONGOING", ONGOING),
        ("ongoing", ONGOING),
        ("  Q4 FY19  ", Q(2019, 4)),
        ("\tFY19\n", Q(2019)),
        ("  Ongoing ", ONGOING),
    ],
)
def test_parse_reads_the_forms_people_write(text, period):
    assert FiscalPeriod.parse(text) == period


@pytest.mark.parametrize(
    ("period", "text"),
    [
        (Q(2019, 4), "Q4 FY19"),
        (Q(2018, 3), "Q3 FY18"),
        (Q(2019), "FY19"),
        (Q(2000, 1), "Q1 FY00"),
        (Q(1999), "FY1999"),
        (Q(2100, 2), "Q2 FY2100"),
        (ONGOING, "Ongoing"),
    ],
)
def test_a_period_prints_one_canonical_form(period, text):
    assert str(period) == text


@pytest.mark.parametrize("text", ["Q4 FY 19", "Q4 FY2019", "q4 fy19", " Q4 FY 2019 "])
def test_every_spelling_of_a_period_prints_the_same(text):
    assert str(FiscalPeriod.parse(text)) == "Q4 FY19"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Q5 FY19", "a quarter is Q1 to Q4"),
        ("Q0 FY19", "a quarter is Q1 to Q4"),
        ("FY", "is not a fiscal period"),
        ("FY123", "the year must have 2 or 4 digits"),
        ("FY20190", "the year must have 2 or 4 digits"),
        ("banana", "is not a fiscal period"),
        ("", "is not a fiscal period"),
        ("   ", "is not a fiscal period"),
        ("Q4", "is not a fiscal period"),
        ("FY19 Q4", "is not a fiscal period"),
        ("Ongoing FY19", "is not a fiscal period"),
        ("FY0999", "out of range"),
        (None, "is not a fiscal period"),
        (20194, "is not a fiscal period"),
        (19, "is not a fiscal period"),
        (4.0, "is not a fiscal period"),
    ],
)
def test_parse_rejects_everything_else_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message) as error:
        FiscalPeriod.parse(text)
    assert "e.g. Q3 FY19" in str(error.value) or "fiscal period:" in str(error.value)


def test_the_message_quotes_what_was_written():
    with pytest.raises(ValueError, match=r'"Q5 FY19" is not a fiscal period'):
        FiscalPeriod.parse("  Q5 FY19 ")


@pytest.mark.parametrize(
    ("year", "quarter"), [(2019, 5), (2019, 0), (1899, None), (3000, 1), (None, 2)]
)
def test_an_impossible_period_cannot_be_constructed(year, quarter):
    with pytest.raises(ValueError):
        FiscalPeriod(year, quarter)


@pytest.mark.parametrize("key", [20196, 20190, 20199, 0, -1])
def test_from_key_rejects_what_is_not_a_stored_period(key):
    with pytest.raises(ValueError, match="is not a stored fiscal period"):
        FiscalPeriod.from_key(key)


# -- order ------------------------------------------------------------------------------


def test_periods_sort_in_time_with_a_whole_year_after_its_q4_and_ongoing_last():
    ordered = [Q(2019, 3), Q(2019, 4), Q(2019), Q(2020, 1), ONGOING]
    shuffled = [ordered[i] for i in (4, 2, 0, 3, 1)]

    assert sorted(shuffled) == ordered
    assert Q(2019, 3) < Q(2019, 4) < Q(2019) < Q(2020, 1) < ONGOING
    assert Q(2018) < Q(2019, 1)
    assert Q(2999) < ONGOING


def test_equal_periods_are_equal_and_hash_alike():
    assert FiscalPeriod.parse("q4 fy 2019") == Q(2019, 4)
    assert len({Q(2019, 4), FiscalPeriod.parse("Q4 FY19"), Q(2019)}) == 2
    assert Q(2019, 4) != "Q4 FY19"


# -- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Q(2019, 1), datetime.date(2018, 10, 1), datetime.date(2018, 12, 31)),
        (Q(2019, 2), datetime.date(2019, 1, 1), datetime.date(2019, 3, 31)),
        (Q(2019, 3), datetime.date(2019, 4, 1), datetime.date(2019, 6, 30)),
        (Q(2019, 4), datetime.date(2019, 7, 1), datetime.date(2019, 9, 30)),
        (Q(2019), datetime.date(2018, 10, 1), datetime.date(2019, 9, 30)),
        (Q(2020, 2), datetime.date(2020, 1, 1), datetime.date(2020, 3, 31)),  # leap year
    ],
)
def test_federal_fiscal_year_starts_in_october_by_default(period, start, end):
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Q(2019, 1), datetime.date(2019, 1, 1), datetime.date(2019, 3, 31)),
        (Q(2019, 4), datetime.date(2019, 10, 1), datetime.date(2019, 12, 31)),
        (Q(2019), datetime.date(2019, 1, 1), datetime.date(2019, 12, 31)),
    ],
)
def test_a_january_fiscal_year_is_the_calendar_year(settings, period, start, end):
    settings.FISCAL_YEAR_START_MONTH = 1

    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Q(2019, 1), datetime.date(2018, 7, 1), datetime.date(2018, 9, 30)),
        (Q(2019, 3), datetime.date(2019, 1, 1), datetime.date(2019, 3, 31)),
        (Q(2019, 4), datetime.date(2019, 4, 1), datetime.date(2019, 6, 30)),
        (Q(2019), datetime.date(2018, 7, 1), datetime.date(2019, 6, 30)),
    ],
)
def test_a_july_fiscal_year_is_named_for_the_year_it_ends_in(settings, period, start, end):
    settings.FISCAL_YEAR_START_MONTH = 7

    assert (period.start, period.end) == (start, end)


def test_ongoing_has_no_dates():
    assert (ONGOING.start, ONGOING.end) == (None, None)


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (datetime.date(2018, 9, 30), Q(2018, 4)),
        (datetime.date(2018, 10, 1), Q(2019, 1)),
        (datetime.date(2018, 12, 31), Q(2019, 1)),
        (datetime.date(2019, 1, 1), Q(2019, 2)),
        (datetime.date(2019, 6, 30), Q(2019, 3)),
        (datetime.date(2019, 7, 1), Q(2019, 4)),
        (datetime.date(2019, 9, 30), Q(2019, 4)),
    ],
)
def test_containing_finds_the_quarter_at_its_boundaries(day, period):
    assert FiscalPeriod.containing(day) == period


@pytest.mark.parametrize(
    ("month", "day", "period"),
    [
        (1, datetime.date(2019, 1, 1), Q(2019, 1)),
        (1, datetime.date(2019, 12, 31), Q(2019, 4)),
        (7, datetime.date(2018, 6, 30), Q(2018, 4)),
        (7, datetime.date(2018, 7, 1), Q(2019, 1)),
    ],
)
def test_containing_follows_the_start_month_setting(settings, month, day, period):
    settings.FISCAL_YEAR_START_MONTH = month

    assert FiscalPeriod.containing(day) == period


@pytest.mark.parametrize(
    ("period", "day", "ended"),
    [
        (Q(2019, 3), datetime.date(2019, 6, 30), False),  # its last day
        (Q(2019, 3), datetime.date(2019, 7, 1), True),
        (Q(2019, 4), datetime.date(2019, 9, 30), False),
        (Q(2019), datetime.date(2019, 9, 30), False),  # during its Q4
        (Q(2019), datetime.date(2019, 10, 1), True),
        (Q(2019), datetime.date(2018, 10, 1), False),
        (ONGOING, datetime.date(2999, 9, 30), False),
    ],
)
def test_has_ended_once_the_day_after_its_end_comes(period, day, ended):
    assert period.has_ended(day) is ended


def test_fiscal_year_range_covers_the_quarters_and_the_year_itself():
    low, high = fiscal_year_range(2019)

    inside = [
        p for p in [Q(2018), Q(2019, 1), Q(2019, 4), Q(2019), Q(2020, 1)] if low <= p.key <= high
    ]
    assert inside == [Q(2019, 1), Q(2019, 4), Q(2019)]


def test_previous_quarter_crosses_the_fiscal_year():
    assert Q(2019, 1).previous_quarter() == Q(2018, 4)
    assert Q(2019, 3).previous_quarter() == Q(2019, 2)
    with pytest.raises(ValueError):
        Q(2019).previous_quarter()


# -- properties -------------------------------------------------------------------------


@modest
@given(periods)
def test_any_period_reparses_from_its_text(period):
    assert FiscalPeriod.parse(str(period)) == period


@modest
@given(periods)
def test_any_period_comes_back_from_its_key(period):
    assert FiscalPeriod.from_key(period.key) == period


@modest
@given(periods, periods)
def test_key_order_is_end_date_order_with_a_year_after_its_q4_and_ongoing_last(a, b):
    def time_order(p):
        if p.is_ongoing:
            return (datetime.date.max, 0)
        return (p.end, 1 if p.is_whole_year else 0)

    assert (a < b) == (time_order(a) < time_order(b))
    assert (a == b) == (time_order(a) == time_order(b))


@modest
@given(st.integers(1900, 2999), start_months)
def test_four_quarters_tile_the_fiscal_year(fiscal_year, month):
    with override_settings(FISCAL_YEAR_START_MONTH=month):
        year = FiscalPeriod(fiscal_year)
        quarters = [FiscalPeriod(fiscal_year, q) for q in (1, 2, 3, 4)]

        assert quarters[0].start == year.start
        assert quarters[-1].end == year.end
        for earlier, later in zip(quarters, quarters[1:], strict=False):
            assert later.start == earlier.end + datetime.timedelta(days=1)
        assert all(q.start.day == 1 for q in quarters)
        assert year.start.month == month


@modest
@given(dates, start_months)
def test_every_date_lies_in_exactly_one_quarter(day, month):
    with override_settings(FISCAL_YEAR_START_MONTH=month):
        quarter = FiscalPeriod.containing(day)

        assert quarter.is_quarter
        assert quarter.start <= day <= quarter.end
        candidates = [
            FiscalPeriod(year, q)
            for year in (day.year - 1, day.year, day.year + 1)
            for q in (1, 2, 3, 4)
        ]
        assert [p for p in candidates if p.start <= day <= p.end] == [quarter]
        assert not quarter.has_ended(day)
        assert quarter.previous_quarter().has_ended(day)


period_like_text = st.from_regex(
    r"\s*(?:[qQ]\s*\d{0,2}[\s,/-]*)?(?:[fF][yY][\s'-]*\d{0,5}|ongoing|ONGOING)?\s*",
    fullmatch=True,
)


@modest
@given(st.one_of(st.text(), period_like_text))
def test_any_text_parses_to_a_period_that_reparses_or_is_refused_with_valueerror(text):
    try:
        period = FiscalPeriod.parse(text)
    except ValueError as error:
        assert "fiscal period" in str(error)
    else:
        assert FiscalPeriod.parse(str(period)) == period


# -- the model field --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_period_is_saved_and_read_back(goal):
    milestone = MilestoneFactory(goal=goal, due=Q(2018, 3), revised_due=ONGOING)

    milestone.refresh_from_db()

    assert (milestone.due, milestone.revised_due) == (Q(2018, 3), ONGOING)
    assert Milestone.objects.values_list("due", flat=True).get() == Q(2018, 3)


@pytest.mark.django_db
def test_a_period_given_as_text_is_saved_as_the_period(goal):
    milestone = MilestoneFactory(goal=goal, due="q4 fy 2019")

    milestone.refresh_from_db()

    assert milestone.due == Q(2019, 4)


@pytest.mark.django_db
def test_the_database_orders_by_period_in_time(goal):
    due = [ONGOING, Q(2019), Q(2020, 1), Q(2019, 3), Q(2019, 4), Q(1999), Q(2100, 1)]
    for period in due:
        MilestoneFactory(goal=goal, due=period)

    assert list(Milestone.objects.order_by("due").values_list("due", flat=True)) == sorted(due)
    assert list(Milestone.objects.order_by("-due").values_list("due", flat=True))[0] == ONGOING


@pytest.mark.django_db
def test_the_database_filters_by_period(goal):
    for period in [Q(2019, 3), Q(2019, 4), Q(2019), Q(2020, 1), ONGOING]:
        MilestoneFactory(goal=goal, due=period)

    def due(**lookup):
        return sorted(Milestone.objects.filter(**lookup).values_list("due", flat=True))

    assert due(due__lt=Q(2019)) == [Q(2019, 3), Q(2019, 4)]
    assert due(due__gte=Q(2019)) == [Q(2019), Q(2020, 1), ONGOING]
    assert due(due__gte="FY19", due__lt="Ongoing") == [Q(2019), Q(2020, 1)]
    assert due(due=ONGOING) == [ONGOING]
    assert due(due__in=[Q(2019, 4), Q(2020, 1)]) == [Q(2019, 4), Q(2020, 1)]
    assert Milestone.objects.filter(due=Q(2019, 3)).get().due.key == 20193
    assert ONGOING.key == ONGOING_KEY


class PeriodForm(forms.Form):
    period = FiscalPeriodFormField()
    optional = FiscalPeriodFormField(required=False)


@pytest.mark.parametrize(
    ("text", "period"),
    [("q4 fy 2019", Q(2019, 4)), ("FY 19", Q(2019)), ("ongoing", ONGOING)],
)
def test_the_form_field_accepts_free_forms(text, period):
    form = PeriodForm(data={"period": text, "optional": ""})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"period": period, "optional": None}


def test_the_form_field_shows_the_canonical_text():
    form = PeriodForm(initial={"period": Q(2019, 4), "optional": ONGOING})

    html = str(form)

    assert 'value="Q4 FY19"' in html
    assert 'value="Ongoing"' in html


@pytest.mark.parametrize("text", ["Q5 FY19", "banana", "FY123"])
def test_an_invalid_period_is_a_form_error_not_an_exception(text):
    form = PeriodForm(data={"period": text})

    assert not form.is_valid()
    assert form.has_error("period", code="invalid_period")
    assert "is not a fiscal period" in form.errors["period"][0]


def test_a_required_period_left_blank_is_a_form_error():
    form = PeriodForm(data={"period": "  "})

    assert not form.is_valid()
    assert form.has_error("period", code="required")


@pytest.mark.django_db
def test_a_model_form_uses_the_period_form_field(goal):
    class MilestoneForm(forms.ModelForm):
        class Meta:
            model = Milestone
            fields = ["due"]

    form = MilestoneForm(data={"due": "Q3 FY 18"}, instance=MilestoneFactory(goal=goal))

    assert isinstance(form.fields["due"], FiscalPeriodFormField)
    assert form.is_valid(), form.errors
    assert form.save().due == Q(2018, 3)
