"""Storage: tables, migrations, the group-commit writer and read queries."""
