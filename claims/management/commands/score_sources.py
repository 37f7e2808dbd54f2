from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from claims import candidates
from sources.models import Source


class Command(BaseCommand):
    help = (
        "Score the sentences of sources as candidate claims (claims.candidates), as adding "
        "a source does: each source's new candidates are replaced, those an editor drafted "
        "or dismissed are kept. For sources stored before candidates existed, or after the "
        "scoring changed.\n\n"
        "Examples: python manage.py score_sources --all; "
        "python manage.py score_sources --source SLUG [--source SLUG ...]"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            action="append",
            dest="slugs",
            default=[],
            metavar="SLUG",
            help="A source to score, by its slug; repeat for several.",
        )
        parser.add_argument("--all", action="store_true", help="Score every source.")

    def handle(self, *args, slugs: list[str], all: bool, verbosity: int, **options):
        if bool(slugs) == all:
            raise CommandError("Give --source SLUG (one or more) or --all, not both.")
        sources = Source.objects.only("id", "slug", "snapshot", "language").order_by("pk")
        if slugs:
            sources = sources.filter(slug__in=slugs)
            unknown = set(slugs) - set(sources.values_list("slug", flat=True))
            if unknown:
                raise CommandError(f"No source with the slug {', '.join(sorted(unknown))}.")
        # The speakers' names are read once for the run, not once per source.
        speakers = candidates.SpeakerNames.load()
        total = sources.count()
        stored = 0
        # tqdm draws only on a terminal (disable=None), so logs stay clean. Each source
        # is its own transaction (refresh_for), so an interrupted run keeps what it did.
        for source in tqdm(
            sources.iterator(chunk_size=100),
            total=total,
            desc="sources",
            unit="source",
            disable=None if verbosity else True,
        ):
            stored += candidates.refresh_for(source, speakers=speakers)
        self.stdout.write(
            self.style.SUCCESS(f"Scored {total} source(s): {stored} candidate claim(s) stored.")
        )
