"""Task time limits: every task has them, and the dial's outlast the provider timeout."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as hst

from workers.app import TASK_ROUTES
from workers.time_limits import task_time_limits


@given(hst.floats(min_value=0.01, max_value=300))
def test_the_dial_task_outlives_the_provider_timeout(provider_timeout_s):
    limits = task_time_limits(provider_timeout_s=provider_timeout_s)
    dial = limits["dialer.dial"]
    # The dial stops waiting for place_call first; the soft limit then still
    # leaves it time to write down what happened, and the hard one comes last.
    assert provider_timeout_s < dial.soft_s < dial.hard_s
    assert dial.soft_s - provider_timeout_s >= 10


def test_every_task_has_a_soft_limit_below_its_hard_limit():
    limits = task_time_limits(provider_timeout_s=10)
    assert set(limits) == set(TASK_ROUTES)
    for name, limit in limits.items():
        assert 0 < limit.soft_s < limit.hard_s, name
    # Control tasks are short: a stuck tick or sweep is cut off before the next few pile up.
    assert limits["dialer.tick"].hard_s <= 60 and limits["dialer.sweep"].hard_s <= 120


def test_the_worker_applies_them():
    import workers.tasks  # noqa: F401  (registers the tasks on the app)
    from dialer.settings import load_settings
    from workers.app import app

    limits = task_time_limits(provider_timeout_s=load_settings().provider_timeout_s)
    for name, limit in limits.items():
        task = app.tasks[name]
        assert (task.soft_time_limit, task.time_limit) == (limit.soft_s, limit.hard_s), name
    assert app.conf.task_soft_time_limit and app.conf.task_time_limit


def test_with_the_default_settings_no_task_but_enqueue_outlives_the_visibility_timeout():
    from dialer.settings import Settings
    from workers.time_limits import redelivered_while_running

    defaults = Settings()
    assert redelivered_while_running(
        provider_timeout_s=defaults.provider_timeout_s,
        visibility_timeout_s=defaults.broker_visibility_timeout_s) == []


def test_a_worker_warns_of_a_visibility_timeout_shorter_than_a_time_limit():
    from dialer.settings import Settings
    from workers.startup_checks import configuration_warnings

    problems = configuration_warnings(Settings(broker_url="redis://127.0.0.1:6379/1",
                                               provider_timeout_s=60))
    assert any("DIALER_BROKER_VISIBILITY_TIMEOUT_S=45" in p and "dialer.dial" in p
               for p in problems), problems
    assert not any("VISIBILITY" in p for p in configuration_warnings(Settings(
        broker_url="amqp://guest:guest@127.0.0.1:5672//", provider_timeout_s=60)))
