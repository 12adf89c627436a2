"""Idempotency records keep ids, not answers: the created record's type and id and its client,
instead of the first answer's body (which held client names and note text).

The client's foreign key cascades in the database (``ON DELETE CASCADE``), so that the
retention purge, which deletes clients with raw SQL, takes their keys with them; Django 5.2
can only cascade in Python, so the model declares no constraint and the one here is SQL.

Records kept before this migration are converted: their type from the path they were made
at, their id from the kept body, their client from the record. What cannot be converted (a
record since purged) is dropped. Going back drops every record: their bodies are gone.
"""

import django.db.models.deletion
from django.db import migrations, models

# The endpoints that created records, by the tail of their path (after /api/v1/).
_TYPE_OF_PATH = """
CASE
    WHEN path ~ '/v1/progress-notes/[0-9]+/addenda/?$' THEN 'cases.NoteAddendum'
    WHEN path ~ '/v1/rupture-episodes/[0-9]+/record-recurrence/?$' THEN 'ruptures.RuptureEpisode'
    WHEN path ~ '/v1/clients/?$' THEN 'cases.Client'
    WHEN path ~ '/v1/sessions/?$' THEN 'cases.TherapySession'
    WHEN path ~ '/v1/progress-notes/?$' THEN 'cases.ProgressNote'
    WHEN path ~ '/v1/process-notes/?$' THEN 'cases.ProcessNote'
    WHEN path ~ '/v1/measures/srs/?$' THEN 'cases.SessionRatingScale'
    WHEN path ~ '/v1/measures/ors/?$' THEN 'cases.OutcomeRatingScale'
    WHEN path ~ '/v1/measures/psq/?$' THEN 'cases.PostSessionQuestionnaire'
    WHEN path ~ '/v1/measures/wai-sr/?$' THEN 'cases.WorkingAllianceInventory'
    WHEN path ~ '/v1/rupture-episodes/?$' THEN 'ruptures.RuptureEpisode'
    WHEN path ~ '/v1/repair-attempts/?$' THEN 'ruptures.RepairAttempt'
    WHEN path ~ '/v1/memberships/?$' THEN 'cases.Membership'
    WHEN path ~ '/v1/supervision-assignments/?$' THEN 'cases.SupervisionAssignment'
END
"""

_CONVERT = f"""
UPDATE api_idempotencyrecord
SET object_type = {_TYPE_OF_PATH},
    object_id = (response_body ->> 'id')::bigint
WHERE jsonb_typeof(response_body -> 'id') = 'number';

UPDATE api_idempotencyrecord r
SET client_id = CASE r.object_type
    WHEN 'cases.Client' THEN (SELECT c.id FROM cases_client c WHERE c.id = r.object_id)
    WHEN 'cases.TherapySession' THEN
        (SELECT t.client_id FROM cases_therapysession t WHERE t.id = r.object_id)
    WHEN 'cases.ProgressNote' THEN
        (SELECT s.client_id FROM cases_progressnote t
         JOIN cases_therapysession s ON s.id = t.session_id WHERE t.id = r.object_id)
    WHEN 'cases.ProcessNote' THEN
        (SELECT s.client_id FROM cases_processnote t
         JOIN cases_therapysession s ON s.id = t.session_id WHERE t.id = r.object_id)
    WHEN 'cases.NoteAddendum' THEN
        (SELECT s.client_id FROM cases_noteaddendum t
         JOIN cases_progressnote n ON n.id = t.note_id
         JOIN cases_therapysession s ON s.id = n.session_id WHERE t.id = r.object_id)
    WHEN 'cases.SessionRatingScale' THEN
        (SELECT t.client_id FROM cases_sessionratingscale t WHERE t.id = r.object_id)
    WHEN 'cases.OutcomeRatingScale' THEN
        (SELECT t.client_id FROM cases_outcomeratingscale t WHERE t.id = r.object_id)
    WHEN 'cases.PostSessionQuestionnaire' THEN
        (SELECT t.client_id FROM cases_postsessionquestionnaire t WHERE t.id = r.object_id)
    WHEN 'cases.WorkingAllianceInventory' THEN
        (SELECT t.client_id FROM cases_workingallianceinventory t WHERE t.id = r.object_id)
    WHEN 'ruptures.RuptureEpisode' THEN
        (SELECT t.client_id FROM ruptures_ruptureepisode t WHERE t.id = r.object_id)
    WHEN 'ruptures.RepairAttempt' THEN
        (SELECT t.client_id FROM ruptures_repairattempt t WHERE t.id = r.object_id)
END;

DELETE FROM api_idempotencyrecord
WHERE object_type IS NULL
   OR object_id IS NULL
   OR (client_id IS NULL AND object_type NOT IN ('cases.Membership', 'cases.SupervisionAssignment'));

-- Run the deferred foreign-key checks of these rows now: PostgreSQL alters no table with
-- checks pending, and the next operations alter this one.
SET CONSTRAINTS ALL IMMEDIATE;
"""  # noqa: S608 (no parameters)

_CASCADE = """
ALTER TABLE api_idempotencyrecord
ADD CONSTRAINT idempotency_record_client_fk
FOREIGN KEY (client_id) REFERENCES cases_client (id) ON DELETE CASCADE;
"""
_NO_CASCADE = "ALTER TABLE api_idempotencyrecord DROP CONSTRAINT idempotency_record_client_fk;"


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("cases", "0007_trends_privacy_settings"),
        ("ruptures", "0005_trend_releases"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="object_type",
            field=models.CharField(max_length=100, null=True),
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="object_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="client",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="cases.client",
            ),
        ),
        migrations.RunSQL(_CONVERT, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="object_type",
            field=models.CharField(max_length=100),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="object_id",
            field=models.BigIntegerField(),
        ),
        migrations.RunSQL(_CASCADE, reverse_sql=_NO_CASCADE),
        migrations.RemoveField(model_name="idempotencyrecord", name="response_body"),
        # Backwards, the body comes back NOT NULL, with nothing to fill it: no records.
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql="DELETE FROM api_idempotencyrecord;"),
    ]
