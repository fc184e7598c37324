"""Lookups PostgreSQL serves better than Django's built-ins.

- `field__prefix="张"`: the `^@` (starts_with) operator. Unlike LIKE it is leakproof, so under
  row-level security the planner may still use the name and initials indexes.
- `field__any_of=[…]`: `field = ANY(array)`, the values sent as ONE array parameter. The plan
  is the same as IN's, but a list of 10,000 ID numbers (an import's lookups) is one value to
  bind and parse instead of 10,000 placeholders.
- `field__in_list=[…]`: `field IN (SELECT unnest(array))`, also one array parameter. For a
  long list against an indexed column (an import's 10,000 ID numbers): the planner joins the
  list to the index, one probe per value, where `= ANY(array)` scans the whole table and
  compares each row with the array (under row-level security a third of a second)."""

from django.db.models import CharField, Field, ForeignObject, Lookup


@CharField.register_lookup
class Prefix(Lookup):
    lookup_name = "prefix"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ^@ {rhs}", [*lhs_params, *rhs_params]


@ForeignObject.register_lookup  # person_id__any_of=[…]: related fields keep their own list
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        field = self.lhs.output_field
        return "%s", [[field.get_db_prep_value(v, connection, prepared=False) for v in value]]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        array_type = self.lhs.output_field.rel_db_type(connection)
        return f"{lhs} = ANY({rhs}::{array_type}[])", [*lhs_params, *rhs_params]


@ForeignObject.register_lookup
@Field.register_lookup
class InList(AnyOf):
    lookup_name = "in_list"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        array_type = self.lhs.output_field.rel_db_type(connection)
        return f"{lhs} IN (SELECT unnest({rhs}::{array_type}[]))", [*lhs_params, *rhs_params]
