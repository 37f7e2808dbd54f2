"""Reading JSON-LD in tests as a consumer would: expanded by pyld against schema.org's
real context, offline.

`expand(document)` gives pyld's expanded form. schema.org's context
(tests/fixtures/schemaorg-context.jsonld, see its README) maps every term to
`http://schema.org/` (`SCHEMA`), even when the document names `https://schema.org`, and
types some properties: links such as `url`, `sameAs`, `archivedAt` (`"@type": "@id"`)
expand to `{"@id": ...}`, dates (`datePublished`) to `{"@value": ..., "@type":
SCHEMA + "Date"}`, everything else to a plain `{"@value": ...}`.

`nodes(expanded, "ClaimReview")` finds the node objects of a type anywhere in the
expanded form; `values(node, "url")` reads a property as a list of plain values.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from pyld import jsonld

SCHEMA = "http://schema.org/"
CONTEXT_FILE = Path(__file__).parent / "fixtures" / "schemaorg-context.jsonld"
CONTEXT_URL = "https://schema.org/docs/jsonldcontext.jsonld"
SCHEMA_ORG_URLS = frozenset(
    {"https://schema.org", "https://schema.org/", "http://schema.org", "http://schema.org/"}
    | {CONTEXT_URL}
)


@functools.cache
def schema_org_context() -> dict:
    """The vendored context document, `{"@context": {...}}`, parsed once."""
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))


def schema_org_loader(url: str, options: dict | None = None) -> dict:
    """pyld document loader: schema.org's context for schema.org's addresses (as
    https://schema.org/ serves it, through its Link to /docs/jsonldcontext.jsonld);
    any other URL is refused, as nothing may be fetched."""
    if url in SCHEMA_ORG_URLS:
        return {
            "contextUrl": None,
            "documentUrl": CONTEXT_URL,
            # A copy: nothing pyld does may alter the cached document.
            "document": copy.deepcopy(schema_org_context()),
        }
    raise jsonld.JsonLdError(
        f"Offline: no document for {url}", "jsonld.LoadDocumentError", {"url": url}
    )


def expand(document: dict) -> list:
    """`document` in JSON-LD expanded form (a list of node objects)."""
    return jsonld.expand(document, {"documentLoader": schema_org_loader})


def iri(name: str) -> str:
    """A schema.org term (`"ClaimReview"`) as its IRI; an absolute IRI unchanged."""
    return name if ":" in name else SCHEMA + name


def nodes(expanded: list | dict, type_: str) -> list[dict]:
    """Every node object of type `type_` (a schema.org term or an IRI) in `expanded`,
    at any depth, in document order."""
    found: list[dict] = []
    pending = [expanded]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(reversed(item))
        elif isinstance(item, dict):
            if iri(type_) in item.get("@type", []):
                found.append(item)
            pending.extend(reversed([v for k, v in item.items() if k != "@type"]))
    return found


def values(node: dict, term: str) -> list:
    """The values of property `term` (a schema.org term or an IRI) of an expanded node:
    each value's `@value`, or `@id` for a link or a node with an @id, or the nested node
    object itself; `[]` when the node has no such property."""
    return [item.get("@value", item.get("@id", item)) for item in node.get(iri(term), [])]
