"""Every model of cases and ruptures says what it is when printed (the shell, the admin, logs).
ruff's DJ008 checks that only for models whose bases it can follow inside one module; the
abstract bases of ``cases.models.base`` live in another, so this test holds it instead."""

from __future__ import annotations

import pghistory.models
import pytest
from django.apps import apps
from django.db import models

from cases.models import MEASURE_MODELS

MODELS = [
    model
    for label in ("cases", "ruptures")
    for model in apps.get_app_config(label).get_models()
    if not issubclass(model, pghistory.models.Event)
]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_every_model_defines_str(model):
    assert model.__str__ is not models.Model.__str__


@pytest.mark.parametrize("model", MEASURE_MODELS, ids=lambda model: model._meta.label)
def test_measure_str_names_the_measure_and_its_session(model):
    measure = model(pk=7, session_id=3)

    assert str(measure) == f"{model._meta.verbose_name} 7 for session 3"
