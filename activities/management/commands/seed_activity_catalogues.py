"""Write a county's default activity catalogues (themes, themed days, materials) now, rather
than on first use. Idempotent: a catalogue the county already has is left as it is."""

from activities import catalogues
from activities.models import Material, Theme, ThemedDay
from associations.management.base import ScopedCommand


class Command(ScopedCommand):
    help = "写入本县活动主题、主题日和宣传服务物资的默认目录(已有的目录不变)。"

    def handle(self, *args, **options):
        county = options["county_node"]
        catalogues.seed_county(county)
        counts = [
            model.objects.filter(county=county).count() for model in (Theme, ThemedDay, Material)
        ]
        self.stdout.write("活动主题 {} 个,主题日 {} 个,物资 {} 种。".format(*counts))
