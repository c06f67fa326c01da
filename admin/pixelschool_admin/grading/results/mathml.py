"""Mathematics in pages as MathML, made with the page: no script, no network.

nbconvert's pages typeset LaTeX with MathJax from a CDN, which an exam room or a locked-down
hub cannot reach. Here markdown's maths (``$…$``, ``$$…$$``, ``\\\\(…\\\\)``, ``\\\\[…\\\\]``,
``\\begin{…}…\\end{…}``, as nbconvert's own parser finds them: never in code, never after
``\\``) and ``text/latex`` outputs become MathML when the page is made (latex2mathml), which
browsers draw themselves (MathML Core: Chromium 109+, Firefox, Safari), also from ``file://``
and in JupyterLab's sandboxed HTML viewer. A student's LaTeX is hostile input: the MathML is
written anew from latex2mathml's tree, its text escaped, and then cleaned by nh3 with a
MathML-only allow-list (``sanitise.MATH_CLEANER``). What cannot be converted (an unknown
command or environment) shows as its source, as text, and is counted in ``TALLY``.

``page_config`` (sanitise.py) makes :func:`markdown2html` nbconvert's markdown filter in every
page; the feedback template shows ``text/latex`` outputs with :func:`latex2html`.
"""

import html
import re
import unicodedata
from collections import Counter
from functools import lru_cache

from jinja2 import pass_context
from latex2mathml.converter import convert_to_element
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

from pixelschool_admin.grading.results.sanitise import MATH_CLEANER, MATHML_TAGS

TALLY = Counter()  # "MathML" or "source": what each formula shown became
# LaTeX converted, in characters: one formula, and one page, each formula counted 20 more
# (the course's longest page takes 14,000: 0.3 s; a hostile page's maths, 2 s at most). The rest
# shows as its source.
MAX_FORMULA, PAGE_BUDGET, COST = 4_000, 50_000, 20
BUDGET = "pixelschool_mathml_budget"  # the page's characters left, in its resources
# Environments latex2mathml does not know, as ones it does that draw the same.
ALIASES = {
    "aligned": ("align*", ""), "gathered": ("array", "{c}"), "gather": ("array", "{c}"),
    "gather*": ("array", "{c}"),
}  # fmt: skip
ENVIRONMENT = re.compile(r"\\(begin|end)\{(" + "|".join(map(re.escape, ALIASES)) + r")\}")
TEXT_ESCAPE = re.compile(r"\\([&%$#_{} ])")  # \text{a \& b}
TOKENS = {"mi", "mn", "mo"}
# mathvariant as letters of its own (MathML Core draws "normal" only): Unicode's names.
VARIANTS = {
    "bold": "BOLD", "italic": "ITALIC", "bold-italic": "BOLD ITALIC", "script": "SCRIPT",
    "bold-script": "BOLD SCRIPT", "double-struck": "DOUBLE-STRUCK", "fraktur": "FRAKTUR",
    "sans-serif": "SANS-SERIF", "bold-sans-serif": "SANS-SERIF BOLD", "monospace": "MONOSPACE",
}  # fmt: skip
LETTER = re.compile(r"(?:LATIN|GREEK) (CAPITAL|SMALL) LETTER (\w+)|DIGIT (\w+)")
# Maths in a text/latex output: display first; `\$` is a dollar.
MATH_IN_TEXT = re.compile(
    r"(?<!\\)\$\$(?P<d1>.+?)(?<!\\)\$\$|(?<!\\)\\\[(?P<d2>.+?)(?<!\\)\\\]"
    r"|(?<![$\\])\$(?P<i1>.+?)(?<![$\\])\$|(?<!\\)\\\((?P<i2>.+?)(?<!\\)\\\)"
    r"|(?<!\\)(?P<env>\\begin\{(?P<name>[a-zA-Z]+\*?)\}.*?\\end\{(?P=name)\})",
    re.S,
)


class Unconvertible(ValueError):
    """LaTeX that latex2mathml leaves unconverted, or converts to more than the allow-list."""


def _styled(text, variant):
    """``text`` in the letters of a mathvariant (a letter without one stays as it is)."""
    styled = []
    for char in text:
        letter = LETTER.fullmatch(unicodedata.name(char, ""))
        if letter:
            case, name, digit = letter.groups()
            wanted = f"DIGIT {digit}" if digit else f"{case} {name}"
            try:
                char = unicodedata.lookup(f"MATHEMATICAL {VARIANTS[variant]} {wanted}")
            except KeyError:
                pass
        styled.append(char)
    return "".join(styled)


def _text(text, tag):
    text = html.unescape(text or "")  # latex2mathml writes characters as references
    if tag in TOKENS and ("\\" in text or text == "&"):  # a command left as written, a stray &
        raise Unconvertible(text)
    return TEXT_ESCAPE.sub(r"\1", text) if tag == "mtext" else text


def _write(element, out):
    """Append ``element`` as escaped MathML markup to ``out``."""
    if element.tag not in MATHML_TAGS:
        raise Unconvertible(f"<{element.tag}>")
    attributes = {k: v for k, v in element.attrib.items() if k != "xmlns"}
    text = _text(element.text, element.tag)
    if attributes.get("mathvariant") in VARIANTS and element.tag in TOKENS:
        text = _styled(text, attributes.pop("mathvariant"))
    names = "".join(f' {k}="{html.escape(v)}"' for k, v in sorted(attributes.items()))
    out.append(f"<{element.tag}{names}>{html.escape(text, quote=False)}")
    for child in element:
        _write(child, out)
    out.append(f"</{element.tag}>{html.escape(_text(element.tail, ''), quote=False)}")


def _alias(found):
    name, argument = ALIASES[found[2]]
    return f"\\{found[1]}{{{name}}}" + (argument if found[1] == "begin" else "")


@lru_cache(maxsize=8192)
def to_mathml(tex, display=False):
    """MathML for the LaTeX ``tex`` (without its delimiters), or None where it cannot be
    converted."""
    tex = ENVIRONMENT.sub(_alias, tex)
    try:
        out = []
        _write(convert_to_element(tex, display="block" if display else "inline"), out)
    except Exception:  # noqa: BLE001  (latex2mathml's errors, or more than the allow-list)
        return None
    return MATH_CLEANER.clean("".join(out))


def math_html(tex, display, source, budget=None):
    """The HTML of one formula: its MathML, else its ``source`` (with its delimiters) as text.
    ``budget``: [characters of LaTeX the page may still convert]."""
    budget = [PAGE_BUDGET] if budget is None else budget
    mathml = None
    if len(tex) <= min(MAX_FORMULA, budget[0] - COST):
        budget[0] -= len(tex) + COST
        mathml = to_mathml(tex, display)
    TALLY["MathML" if mathml else "source"] += 1
    return mathml or f'<code class="latex">{html.escape(source)}</code>'


def page_budget(context):
    """[characters of LaTeX] the page being made may still convert (kept in its resources)."""
    resources = context.get("resources")
    return resources.setdefault(BUDGET, [PAGE_BUDGET]) if isinstance(resources, dict) else None


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, its maths as MathML (within ``budget``)."""

    def __init__(self, *args, budget=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.budget = [PAGE_BUDGET] if budget is None else budget

    def block_math(self, body):
        return math_html(body, True, f"$${body}$$", self.budget)

    def inline_math(self, body):
        return math_html(body, False, f"${body}$", self.budget)

    def latex_environment(self, name, body):
        tex = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return math_html(tex, True, tex, self.budget)


class _Formulas(IPythonRenderer):
    def __init__(self):
        super().__init__(escape=False)
        self.found = []

    def block_math(self, body):
        self.found.append((body, True))
        return ""

    def inline_math(self, body):
        self.found.append((body, False))
        return ""

    def latex_environment(self, name, body):
        self.found.append((f"\\begin{{{name}}}{body}\\end{{{name}}}", True))
        return ""


def formulas(source):
    """[(LaTeX, display?)] of the maths in a markdown ``source``, as pages find it."""
    renderer = _Formulas()
    MarkdownWithMath(renderer=renderer).render(source)
    return renderer.found


@pass_context
def markdown2html(context, source):
    """nbconvert's ``markdown2html`` filter (``HTMLExporter``'s, as nbgrader's pages set it),
    with the maths as MathML."""
    attachments = context.get("cell", {}).get("attachments", {})
    path = context.get("resources", {}).get("metadata", {}).get("path", "")
    budget = page_budget(context)
    renderer = MathMLRenderer(escape=False, attachments=attachments, path=path, budget=budget)
    return MarkdownWithMath(renderer=renderer).render(source)


def _latex_maths(text):
    """(match, LaTeX, display?) of each formula in a text/latex output."""
    for found in MATH_IN_TEXT.finditer(text):
        tex = next(found[g] for g in ("d1", "d2", "i1", "i2", "env") if found[g] is not None)
        yield found, tex, found["i1"] is None and found["i2"] is None


def latex_formulas(text):
    """[(LaTeX, display?)] of the maths in a text/latex output, as pages find it."""
    return [(tex, display) for _, tex, display in _latex_maths(text)]


@pass_context
def latex2html(context, text):
    """A ``text/latex`` output as HTML: its maths as MathML, the rest as escaped text."""
    parts, end, budget = [], 0, page_budget(context)
    for found, tex, display in _latex_maths(text):
        parts += [_plain(text[end : found.start()]), math_html(tex, display, found[0], budget)]
        end = found.end()
    return "".join(parts) + _plain(text[end:])


def _plain(text):
    return html.escape(text.replace("\\$", "$"))
