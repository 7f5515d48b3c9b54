import factory

from milestones.models import Milestone, ProgressSummary, ReviewState, Status, StatusUpdate
from strategies.models import Agency, Goal, Indicator, IndicatorValue, Membership, Role, Strategy
from strategies.periods import FiscalPeriod


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gov")
    password = factory.django.Password("correct horse battery staple")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("name",)

    name = "Department of the Treasury"
    abbreviation = "Treasury"


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    agency = factory.SubFactory(AgencyFactory)
    title = factory.Sequence(lambda n: f"Goal number {n}")
    short_name = factory.Sequence(lambda n: f"G{n}")
    slug = factory.Sequence(lambda n: f"goal-{n}")
    statement = "By September 2019, do the thing."
    first_fiscal_year = 2018
    last_fiscal_year = 2019
    # Held by an admin on its last quarter, so every quarter of its period can be reported
    # on without publishing the ones before. A test of the reporting-quarter rule itself
    # passes reporting_quarter_set=None (then: the quarter after the last published one).
    reporting_quarter_set = FiscalPeriod(2019, 4)


class StrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Strategy

    goal = factory.SubFactory(GoalFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Strategy title {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    goal = factory.SubFactory(GoalFactory)
    role = Role.LEADER


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    goal = factory.SubFactory(GoalFactory)
    strategy = factory.LazyAttribute(lambda m: StrategyFactory(goal=m.goal))
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due = FiscalPeriod(2019, 4)
    status = Status.ON_TRACK
    comment = "Work continues."


class StatusUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusUpdate

    milestone = factory.SubFactory(MilestoneFactory)
    author = factory.SubFactory(UserFactory)
    author_name = factory.LazyAttribute(lambda u: u.author.username)
    period = FiscalPeriod(2019, 3)
    status = Status.ON_TRACK
    comment = "Reviewed."


class ProgressSummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressSummary

    goal = factory.SubFactory(GoalFactory)
    period = FiscalPeriod(2019, None)
    summary = "- Progress was made."
    # A published update stands at the end of its review chain.
    review_state = factory.LazyAttribute(
        lambda o: ReviewState.PUBLISHED if o.published_at else ReviewState.DRAFT
    )
    published_at = None


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    goal = factory.SubFactory(GoalFactory)
    name = factory.Sequence(lambda n: f"Indicator {n}")
    unit = "cases"


class IndicatorValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndicatorValue

    indicator = factory.SubFactory(IndicatorFactory)
    period = FiscalPeriod(2019, 1)
    target = 10
    actual = 8


class AgencyRoleFactory(factory.django.DjangoModelFactory):
    """An agency-wide role; over the Treasury of ``AgencyFactory`` unless told."""

    class Meta:
        model = "strategies.AgencyRole"

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = "admin"
