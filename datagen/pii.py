"""Synthetic personal data (names, e-mail addresses on example domains, street addresses)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.formats import int_str, join, strings

FIRST = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Emily Ella Poppy Evie Charlotte "
    "Sophie Alice Harper Noah Oliver George Arthur Leo Muhammad Harry Oscar Archie Henry Theodore Freddie "
    "Jack Charlie Finley Thomas Lucas Alfie Isaac Max Hannah Lena Emma Lea Anna Marie Lukas Paul Jonas Felix "
    "Louise Jade Chloe Gabriel Hugo Raphael Sofia Lucia Martina Daniel Pablo Liam Ethan Mason Aoife Sean"
).split()
LAST = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker "
    "White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward "
    "Hughes Moore "
    "Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott Mueller Schmidt Schneider Fischer Weber "
    "Meyer Wagner Bernard Dubois Durand Moreau Laurent Garcia Rodriguez Martinez Lopez Murphy Kelly Byrne "
    "Ryan Jansen Bakker Visser Miller Davis"
).split()
STREETS = (
    "High Station Church Park Victoria Green Manor Mill Main School Queen King Orchard Chapel Bridge Market "
    "Garden Springfield Windsor Meadow"
).split()
STREET_TYPES = ("Street", "Road", "Lane", "Avenue", "Close", "Way")
TOWNS = (
    "Ashford Bramley Carlton Denton Easton Fulham Grantham Hadley Ilford Kingsley Langford Marlow Newbury "
    "Oakham Preston Radford Stanton Thornbury Upton Walton"
).split()
DOMAINS = ("example.com", "example.org", "example.net")


def make_pii(rng: np.random.Generator, serial: np.ndarray) -> dict[str, pa.Array]:
    """Name, e-mail and address per person; `serial` makes e-mail addresses unique."""
    n = len(serial)
    fi = rng.integers(0, len(FIRST), n)
    li = rng.integers(0, len(LAST), n)
    first, last = strings(FIRST, fi), strings(LAST, li)
    name = join([first, last], " ")
    local = pc.utf8_lower(join([first, last], "."))
    email = join([local, int_str(serial), "@", strings(DOMAINS, rng.integers(0, len(DOMAINS), n))])
    address = join(
        [
            int_str(rng.integers(1, 300, n)),
            " ",
            strings(STREETS, rng.integers(0, len(STREETS), n)),
            " ",
            strings(STREET_TYPES, rng.integers(0, len(STREET_TYPES), n)),
            " ",
            strings(TOWNS, rng.integers(0, len(TOWNS), n)),
        ]
    )
    return {"name": name, "email": email, "address": address}
