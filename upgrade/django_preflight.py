# Run by the OMFLOW upgrade with the installation's Python, in the new release's Django
# project folder, against a copy of a database (never the site's own file):
#   defaults DB TABLE.COLUMN...  the model defaults of those columns, in database form
#   preflight DB                 manage.py migrate, then manage.py check
# django.setup() runs every app's AppConfig.ready(), as the service's start does.
# The last line of output is the result: OMFLOW-UPGRADE-RESULT {json}.
import json
import os
import sys

mode, db = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omflow.settings")

from django.conf import settings

settings.DATABASES["default"]["NAME"] = db

import django

django.setup()

from django.db import connection

result = {}
if mode == "defaults":
    from django.apps import apps

    want = set(sys.argv[3:])
    values = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_concrete_fields:
            key = model._meta.db_table + "." + field.column
            if key not in want or not field.has_default():
                continue
            value = field.get_db_prep_save(field.get_default(), connection)
            if isinstance(value, bool):
                value = int(value)
            elif value is not None and not isinstance(value, (int, float, str)):
                value = str(value)
            values[key] = value
    result["values"] = values
elif mode == "preflight":
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    result["migrations"] = [m.app_label + "." + m.name for m, backwards in plan if not backwards]
    call_command("migrate", interactive=False, verbosity=1)
    call_command("check")
else:
    sys.exit("unknown mode " + mode)
print("OMFLOW-UPGRADE-RESULT " + json.dumps(result))
