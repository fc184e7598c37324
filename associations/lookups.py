"""`field__prefix="张"`: PostgreSQL's `^@` (starts_with) operator. Unlike LIKE it is leakproof,
so under row-level security the planner may still use the name and initials indexes."""

from django.db.models import CharField, Lookup


@CharField.register_lookup
class Prefix(Lookup):
    lookup_name = "prefix"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ^@ {rhs}", [*lhs_params, *rhs_params]
