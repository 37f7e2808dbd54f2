"""Reader pages name fact-checkers by their full name now, not only their username.

The reader stamp (0008) was bumped by a user's row only when the username changed;
a new first or last name would have left every byline's page answering 304 with the
old name. The trigger now fires on all three.
"""

from django.db import migrations

TRIGGER = """
DROP TRIGGER auth_user_reader_stamp ON auth_user;
CREATE CONSTRAINT TRIGGER auth_user_reader_stamp
    AFTER UPDATE OF {columns} ON auth_user
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION claims_bump_reader_stamp();
"""


class Migration(migrations.Migration):
    dependencies = [("claims", "0017_site_pages_tips")]

    operations = [
        migrations.RunSQL(
            TRIGGER.format(columns="username, first_name, last_name"),
            reverse_sql=TRIGGER.format(columns="username"),
        )
    ]
