"""No student script reaches a browser: active content is removed from graded notebooks.

A submission's outputs and markdown are the student's own HTML. Formgrader shows them to the
instructor on the origin whose cookie can change any grade; the feedback page shows them to
the student, and wherever it is posted. ``SanitiseNotebook`` (an nbgrader preprocessor) keeps
only what a page shows as inert, with an allow-list throughout:

- outputs: the MIME types of ``INERT_TYPES``, and the course's own stylesheet, as they are;
  HTML through nh3 (the ammonia sanitiser) with an allow-list of tags, attributes, styles
  and URL schemes; markdown as markdown cells; SVG only when it holds nothing but drawing
  (``inert_svg``); any other type (JavaScript, widgets, Mermaid, PDF, ...) is removed.
  Output metadata keeps numeric sizes only (nbconvert writes some of it into ``<img>`` tags
  unquoted);
- markdown cells: kept as written when nbconvert's rendering of them passes the allow-list
  whole; otherwise replaced by the sanitised rendering (or, where markdown would read that
  anew, by the source as escaped text). Attachments keep their image types only;
- cell and notebook metadata: nbgrader's and a few inert keys (no widget state, no hidden
  inputs, no titles).

What it removed is noted in ``incident_log`` (``SandboxedExecute``'s JSON lines) and
reported as "active content". Raw cells are left to nbconvert, which renders them through its
own sanitiser; stream and error outputs are text, escaped by every template.

It runs where ``autograded/`` is written (after ``JudgeHiddenResults``, which reads the
hidden tests' results from outputs) and again wherever a page is made (``page_config``:
formgrader's and the feedback's ``HTMLExporter``), so notebooks graded before it are safe
too. Feedback pages also carry ``CONTENT_SECURITY_POLICY`` (template ``pixelschool_feedback``):
no script, nothing from the network; their maths is MathML (``mathml.py``), cleaned with
``MATH_CLEANER``, a MathML-only allow-list.
"""

import html
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import nbgrader
import nh3
from defusedxml import ElementTree
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode
from traitlets.config import Config

from pixelschool.checks.framework import RESULTS_MIME
from pixelschool.style import STYLESHEET
from pixelschool_admin.authoring.notebooks import cell_grade_id
from pixelschool_admin.grading import incidents

KIND = "active content"  # the event kind (events.KINDS)

# Nothing a feedback page shows is fetched or run: its mathematics is MathML, made with the
# page (mathml.py), and its styles and images are inline (images may come from its own site).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)
TEMPLATES = Path(__file__).parent / "templates"
# nbgrader's feedback page with the policy: templates/<name>/<file>, based on nbgrader's
FEEDBACK_TEMPLATE = ("pixelschool_feedback", "page.html.j2")
MATHML, MATHML_FILTERS = "pixelschool_admin.grading.results.mathml", ("markdown2html", "latex2html")

# Shown as data by every page (text/latex: escaped text, or MathML made from it: mathml.py).
INERT_TYPES = {
    "text/plain",
    "text/latex",
    "image/png",
    "image/jpeg",
    "image/gif",
    "application/json",
    RESULTS_MIME,
}
# The course's own stylesheet, which every notebook shows first (pixelschool.style): kept.
COURSE_STYLE = f"<style>{STYLESHEET.read_text(encoding='utf-8')}</style>"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
# Output metadata nbconvert writes into a page: reported when dropped.
SHOWN_METADATA = {"width", "height", "unconfined", "needs_background", "alt", "filenames"}
SHOWN_METADATA.add("isolated")  # an iframe around the output
CELL_METADATA = {"nbgrader", "tags", "deletable", "editable"}
NOTEBOOK_METADATA = {"kernelspec", "language_info"}

TAGS = set(nh3.ALLOWED_TAGS) - {"map", "area"}
ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
ATTRIBUTES["*"] = {"class", "id", "title", "style", "lang"}
ATTRIBUTES["table"] |= {"border"}  # pandas
ATTRIBUTES["details"] = {"open"}
STYLES = {
    "color", "background-color", "font-weight", "font-style", "font-size", "font-family",
    "text-align", "vertical-align", "text-decoration", "white-space", "width", "height",
    "max-width", "border", "border-collapse", "border-bottom", "border-top", "padding",
    "padding-left", "padding-right", "margin", "margin-left", "margin-right",
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto", "data"}
ID_PREFIX = "user-content-"  # a student's ids never clash with the page's own
# Classes formgrader's scripts look for inside a graded cell: a student's element with one
# would be one of its controls (a "full credit" button, a score field, a tab stop).
FORMGRADER_CLASSES = {
    "score", "extra-credit", "mark-graded", "full-credit", "no-credit", "comment",
    "tabbable", "score-saved", "comment-saved", "nbgrader_cell", "live-notebook",
}  # fmt: skip
QUIET = {"<style>"}  # removed without a report: every pandas table carries one

DATA_IMAGE = re.compile(r"\s*data:image/(png|jpeg|gif|svg\+xml)[;,]", re.I)
SCHEME = re.compile(r"\s*([a-z][a-z0-9+.-]*):", re.I)
URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "data", "poster", "background"}
SVG_ELEMENTS = {
    "svg", "g", "defs", "use", "symbol", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "clipPath", "mask", "pattern", "marker",
    "linearGradient", "radialGradient", "stop", "image", "title", "desc", "style",
}  # fmt: skip


def _filter(tag, attribute, value):
    """nh3's attribute filter: data URLs for images only; links only to a fragment or out
    (a relative link would reach the student's own files, served beside the notebook); no
    class that formgrader's scripts would take for one of their own."""
    if attribute == "class":
        return " ".join(c for c in value.split() if c not in FORMGRADER_CLASSES) or None
    if attribute in URL_ATTRIBUTES:
        if value.strip().lower().startswith("data:"):
            return value if (tag, attribute) == ("img", "src") and DATA_IMAGE.match(value) else None
        if tag == "a" and not (value.startswith("#") or SCHEME.match(value)):
            return None
    return value


CLEANER = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    attribute_filter=_filter,
    link_rel=None,
    url_schemes=URL_SCHEMES,
    filter_style_properties=STYLES,
    id_prefix=ID_PREFIX,
)

# MathML, for the pages' mathematics only (mathml.py; a student's own HTML holds none):
# presentation elements, no link, action, annotation or glyph; values are words, numbers,
# colours and lengths of a few em.
MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "ms", "mfrac", "msqrt", "mroot",
    "msub", "msup", "msubsup", "munder", "mover", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose",
}  # fmt: skip
MATHML_ATTRIBUTES = {
    "*": {"mathvariant", "mathcolor", "mathbackground", "mathsize", "displaystyle", "scriptlevel"},
    "math": {"display"},
    "mo": {"stretchy", "fence", "form", "separator", "lspace", "rspace", "minsize", "maxsize",
           "movablelimits", "accent", "largeop", "symmetric"},
    "mfrac": {"linethickness"},
    "mover": {"accent"}, "munder": {"accentunder"}, "munderover": {"accent", "accentunder"},
    "mtable": {"columnspacing", "rowspacing", "columnalign", "rowlines", "columnlines"},
    "mtr": {"columnalign"}, "mtd": {"columnalign", "columnspan", "rowspan"},
    "mspace": {"width", "height", "depth"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "menclose": {"notation"},
}  # fmt: skip
MATH_VALUE = re.compile(r"[\w .#+-]{0,80}", re.ASCII)  # no quote, colon, parenthesis, slash
LENGTH = re.compile(r"\s*[+-]?(\d*\.?\d+)\s*(em|ex|pt|px|mu)?\s*", re.ASCII)
EM = {"em": 1, "ex": 0.5, "pt": 0.1, "px": 1 / 16, "mu": 1 / 18, None: 1}
MATH_LENGTHS = {"width", "height", "depth", "lspace", "rspace", "voffset", "minsize", "maxsize"}


def _math_filter(tag, attribute, value):
    """nh3's attribute filter for MathML: plain values; lengths up to 5em (nothing drawn
    over the page around it)."""
    if not MATH_VALUE.fullmatch(value):
        return None
    if attribute in MATH_LENGTHS:
        length = LENGTH.fullmatch(value)
        if not length or float(length.group(1)) * EM[length.group(2)] > 5:
            return None
    return value


MATH_CLEANER = nh3.Cleaner(
    tags=MATHML_TAGS,
    attributes=MATHML_ATTRIBUTES,
    attribute_filter=_math_filter,
    link_rel=None,
    url_schemes=set(),
)


class _Tokens(HTMLParser):
    """Every token of an HTML fragment: tags with their attributes, text, comments and
    declarations (none is dropped, so nothing hides from a comparison in one)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tokens = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tokens.append(("<", tag, tuple(sorted((k, v or "") for k, v in attrs))))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self.tokens.append(("/", tag))

    def handle_data(self, data):
        if self.tokens and self.tokens[-1][0] == "text":
            data = self.tokens.pop()[1] + data
        self.tokens.append(("text", data))

    def handle_comment(self, data):
        self.tokens.append(("!", data))

    handle_decl = handle_pi = unknown_decl = handle_comment


def _inventory(text):
    """What an HTML fragment holds, for the report: tags, and attributes by tag (URLs by
    scheme)."""
    found = Counter()
    for token in _Tokens(text).tokens:
        if token[0] != "<":
            continue
        found[token[1], None] += 1
        for name, value in token[2]:
            scheme = SCHEME.match(value) if name in URL_ATTRIBUTES else None
            if name in URL_ATTRIBUTES:
                name += f"={scheme.group(1).lower()}:" if scheme else " (relative link)"
            found[token[1], name] += 1
    return found


def sanitise_html(text):
    """(the allow-listed HTML, [what was removed, for the report])."""
    clean = CLEANER.clean(text)
    removed = _inventory(text) - _inventory(clean)
    tags = {tag for tag, attribute in removed if attribute is None}
    report = {f"<{tag}>" for tag in tags} | {a for t, a in removed if a and t not in tags}
    return clean, sorted(report - QUIET)


def same_html(first, second):
    return _Tokens(first).tokens == _Tokens(second).tokens


def render_markdown(source, attachments=None):
    """Markdown as nbconvert's templates render it (without their heading anchors)."""
    renderer = IPythonRenderer(escape=False, attachments=attachments, exclude_anchor_links=True)
    return MarkdownWithMath(renderer=renderer).render(source)


def as_text(source):
    """Markdown whose rendering is its source, escaped (markdown leaves ``<pre>`` alone)."""
    return f"<pre>{html.escape(source)}</pre>"


def sanitise_markdown(source, attachments=None):
    """(markdown, [what was removed]): ``source`` itself when its rendering passes the
    allow-list whole; else its sanitised rendering, or its text, whichever renders as
    itself (markdown reads raw HTML anew after a blank line)."""
    try:
        rendered = render_markdown(source, attachments)
    except Exception:  # noqa: BLE001  (a missing attachment, say: no page could show it)
        candidates, removed = [as_text(source)], ["markdown that cannot be rendered"]
    else:
        clean, removed = sanitise_html(rendered)
        if same_html(rendered, clean):
            return source, []
        candidates = [clean, as_text(source)]
    for candidate in candidates:
        shown = render_markdown(candidate)
        if same_html(shown, CLEANER.clean(shown)):
            return candidate, removed
    return "", removed


def inert_svg(text):
    """Whether an SVG document holds drawing only: no script, handler, foreign content or
    link but to itself or to an embedded image (``<metadata>`` is never shown)."""
    try:
        root = ElementTree.fromstring(text.encode("utf-8"))
    except Exception:  # noqa: BLE001  (not XML, entities, ...: not kept)
        return False

    def inert(element):
        name = element.tag.rsplit("}", 1)[-1]
        if name == "metadata":
            return True
        if name not in SVG_ELEMENTS:
            return False
        for attribute, value in element.attrib.items():
            attribute = attribute.rsplit("}", 1)[-1]
            if attribute.lower().startswith("on"):
                return False
            if attribute == "href" and not (value.startswith("#") or DATA_IMAGE.match(value)):
                return False
        return all(inert(child) for child in element)

    return inert(root)


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def _sizes(metadata):
    """(the inert part of image metadata, [keys a page would show that were dropped]):
    numeric sizes and nbconvert's two display flags; never file names, alt texts or
    isolation (an iframe)."""
    kept = {}
    for key in ("width", "height"):
        if isinstance(metadata.get(key), int | float) and not isinstance(metadata[key], bool):
            kept[key] = metadata[key]
    if isinstance(metadata.get("unconfined"), bool):
        kept["unconfined"] = metadata["unconfined"]
    if metadata.get("needs_background") in ("light", "dark"):
        kept["needs_background"] = metadata["needs_background"]
    return kept, [f"output metadata {key}" for key in SHOWN_METADATA & set(metadata) - set(kept)]


def sanitise_output(output):
    """Sanitise one output in place; return what was removed."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return []  # stream and error outputs: text, escaped by every template
    removed, data = [], output.get("data", {})
    for mime in list(data):
        if mime in INERT_TYPES or (mime, _text(data[mime])) == ("text/html", COURSE_STYLE):
            continue
        if mime == "text/html":
            data[mime], found = sanitise_html(_text(data[mime]))
        elif mime == "text/markdown":
            data[mime], found = sanitise_markdown(_text(data[mime]))
        elif mime == "image/svg+xml" and inert_svg(_text(data[mime])):
            found = []
        else:
            del data[mime]
            found = [f"{mime} output"]
        removed += found
    metadata, removed_keys = _sizes(output.get("metadata", {}))
    for mime, value in output.get("metadata", {}).items():
        if isinstance(value, dict):
            kept, dropped = _sizes(value)
            metadata.update({mime: kept} if kept else {})
            removed_keys += dropped
    output["metadata"] = metadata
    return removed + removed_keys


def sanitise_cell(cell):
    """Sanitise one cell in place; return what was removed."""
    cell.metadata = {k: v for k, v in cell.get("metadata", {}).items() if k in CELL_METADATA}
    removed = []
    if cell.cell_type == "markdown":
        attachments = {}
        for name, bundle in cell.get("attachments", {}).items():
            images = {m: v for m, v in bundle.items() if m in IMAGE_TYPES}
            removed += [f"{m} attachment" for m in bundle if m not in IMAGE_TYPES]
            if images:
                attachments[name] = images
        if "attachments" in cell:
            cell.attachments = attachments
        cell.source, found = sanitise_markdown(cell.source, attachments)
        removed += found
    elif cell.cell_type == "code":
        for output in cell.get("outputs", []):
            removed += sanitise_output(output)
        cell.outputs = [output for output in cell.outputs if output.get("data", True)]
    return removed


def sanitise_notebook(nb):
    """Sanitise a notebook in place; return [(where, [what was removed])]."""
    found = []
    if set(nb.metadata.get("widgets", {})):
        found.append(("notebook", ["widget state"]))
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA}
    for index, cell in enumerate(nb.cells):
        removed = sanitise_cell(cell)
        if removed:
            grade_id = cell_grade_id(cell)
            where = f"{cell.cell_type} cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
            found.append((where, sorted(set(removed))))
    return found


class SanitiseNotebook(Preprocessor):
    """nbgrader (and nbconvert) preprocessor: :func:`sanitise_notebook`, noting what it
    removed; hands the feedback template its Content-Security-Policy."""

    enabled = Bool(True, help="on wherever it is listed, as nbgrader's own").tag(config=True)
    incident_log = Unicode("", help="file for what was removed, JSON lines").tag(config=True)
    content_security_policy = Unicode(
        CONTENT_SECURITY_POLICY, help="the feedback pages' Content-Security-Policy"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        found = sanitise_notebook(nb)
        for where, removed in found:
            incidents.note(self.incident_log, KIND, where, "removed " + ", ".join(removed))
        resources["content_security_policy"] = self.content_security_policy
        return nb, resources


def trimmed_code(source):
    """``source`` for a page: one kind of line break, no trailing whitespace, at most two
    blank lines in a row. Pygments' IPython lexer, which colours the code, takes quadratic
    time over runs of blank lines after code (" \\n" or "\\r" 10,000 times: about 40 s; a
    megabyte would hold the class's feedback for about a day); trimmed, it is linear."""
    lines = [line.rstrip() for line in re.split(r"\r\n|\r|\n", source)]
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines))


class TrimmedCode(Preprocessor):
    """Pages only (formgrader's and the feedback's): code cells as ``trimmed_code`` shows
    them. ``autograded/`` keeps the source as written."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type == "code" and isinstance(cell.get("source"), str):
                cell.source = trimmed_code(cell.source)
        return nb, resources


def page_config():
    """nbgrader settings for every page made from a notebook: formgrader's and the
    feedback's ``HTMLExporter`` sanitise and show markdown's maths as MathML; the feedback's
    is the template with the policy (and MathML for ``text/latex`` outputs, no MathJax)."""
    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions/formgrader/templates"
    config = Config()
    config.HTMLExporter.preprocessors = [
        f"{__name__}.{SanitiseNotebook.__name__}",
        f"{__name__}.{TrimmedCode.__name__}",
    ]
    config.HTMLExporter.filters = {name: f"{MATHML}.{name}" for name in MATHML_FILTERS}
    feedback = config.GenerateFeedback.HTMLExporter
    feedback.template_name, feedback.template_file = FEEDBACK_TEMPLATE
    feedback.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
    return config
