
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('privacy', '0003_audit_corrected_values'),
        ('privacy', '0003_disclosures_withholding_and_transmission'),
    ]

    operations = [
    ]
