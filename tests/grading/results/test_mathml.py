"""Mathematics in feedback pages is MathML made with the page: every formula of the course
converts, what cannot shows as its source, and a student's LaTeX (hostile input) gives no
active content. The pages in a browser, offline: ``test_browser_feedback_math.py``."""

import copy
import re

import nbformat
import pytest

from pixelschool_admin.grading.results import mathml, sanitise
from pixelschool_admin.paths import SOLUTIONS_DIR
from tests.grading.results.test_sanitise import RUN, Active, notebook, output_cell, page


def course_formulas():
    """{notebook: [(LaTeX, display?)]} of every markdown cell and text/latex output of the
    solutions."""
    found = {}
    for path in sorted(SOLUTIONS_DIR.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            formulas = found.setdefault(path.stem, [])
            if cell.cell_type == "markdown":
                formulas += mathml.formulas(cell.source)
            for output in cell.get("outputs", []):
                latex = output.get("data", {}).get("text/latex", "")
                formulas += mathml.latex_formulas("".join(latex))
    return found


def test_every_formula_in_the_solutions_converts():
    found = course_formulas()
    total = sum(map(len, found.values()))
    print(f"{total} formulas in solutions/:", {name: len(f) for name, f in found.items()})
    assert len(found["04_backprop"]) > 100  # the parser finds the course's maths
    failed = [
        (name, tex) for name, f in found.items() for tex, d in f if not mathml.to_mathml(tex, d)
    ]
    assert failed == []


def rendered(source):
    """A markdown cell as the feedback page shows it (its markdown cell's inner HTML)."""
    shown = page(notebook([nbformat.v4.new_markdown_cell(source)]))
    return shown[shown.index('<div class="inner_cell">') :]


@pytest.mark.parametrize(
    "source, tags",
    [
        (r"inline $\frac{\partial L}{\partial W}$ here", {"mfrac", "mo", "mi"}),
        (r"$$\sum_{i=1}^{N} \mathbf{W}^\top x_i$$", {"munderover", "msup"}),
        (r"$$\begin{aligned} a &= b \\ c &= d \end{aligned}$$", {"mtable", "mtd"}),
        (r"\begin{align} \delta &= W^\top \delta' \end{align}", {"mtable"}),
        (r"$$A = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}$$", {"mtable", "mtr"}),
        (r"\\(x\\) and \\[y^2\\]", {"msup"}),
    ],
)
def test_markdown_maths_becomes_mathml(source, tags):
    shown = rendered(source)
    assert "<math" in shown and tags <= set(re.findall(r"<(m[a-z]+)", shown)), shown
    assert "$" not in re.sub(r"<[^>]+>", "", shown)


@pytest.mark.parametrize(
    "source, text",
    [
        ("costs \\$5 and \\$6", "costs $5 and $6"),
        ("code `x = $a$` stays", "x = $a$"),
        ("```\ny = $$b$$\n```", "y = $$b$$"),
        ("    z = $c$", "z = $c$"),
    ],
)
def test_dollars_in_code_or_escaped_are_not_maths(source, text):
    shown = rendered(source)
    assert "<math" not in shown and text in shown.replace("&#36;", "$")


def test_what_cannot_be_converted_shows_as_source_and_is_counted():
    before = mathml.TALLY["source"]
    for tex in (
        r"\unknowncommand{x}",
        r"x^{",
        r"\label{a} x",
        r"\begin{alignat}{2}a&=b\end{alignat}",
    ):
        assert mathml.to_mathml(tex) is None
    shown = rendered(r"ok $x^2$ but $\unknowncommand{x}$ and $$x^{$$")
    assert shown.count("<math") == 1
    assert r'<code class="latex">$\unknowncommand{x}$</code>' in shown
    assert '<code class="latex">$$x^{$$</code>' in shown
    assert mathml.TALLY["source"] == before + 2


def test_a_page_converts_a_bounded_amount_of_latex(monkeypatch):
    monkeypatch.setattr(mathml, "PAGE_BUDGET", (len("x^2") + mathml.COST) * 3)
    cells = [nbformat.v4.new_markdown_cell("$x^2$ and $x^2$") for _ in range(2)]
    cells.append(nbformat.v4.new_markdown_cell(f"$${'+'.join(['y'] * mathml.MAX_FORMULA)}$$"))
    shown = page(notebook(cells))
    assert shown.count("<math") == 3 and shown.count('<code class="latex">$x^2$</code>') == 1
    assert '<code class="latex">$$y+y+' in shown  # one formula too long


def test_latex_outputs_become_mathml():
    latex = r"The loss is $\displaystyle \frac{1}{2}\|x\|^2$, costs \$5 <b>, and $$y$$ \foo"
    shown = mathml.latex2html({}, latex)
    assert shown.count("<math") == 2 and 'display="block"' in shown
    assert "costs $5 &lt;b&gt;" in shown and shown.endswith(r"\foo")
    nb = notebook([output_cell({"text/latex": latex, "text/plain": "x"}, {})])
    assert sanitise.sanitise_notebook(copy.deepcopy(nb)) == []
    assert "<mfrac>" in page(nb)


# A student's LaTeX: what each would run or draw over the page, were it copied as it is.
HOSTILE_LATEX = [
    rf"\text{{<script>{RUN}</script>}}",
    rf"\text{{</math><img src=x onerror={RUN}>}}",
    rf"\href{{javascript:{RUN}}}{{x}}",
    rf"\style{{background:url(javascript:{RUN})}}{{x}}",
    r"\class{full-credit score}{x}",
    rf"\color{{javascript:{RUN}}}{{x}}",
    rf"\mathrm{{<img src=x onerror={RUN}>}}",
    rf"\unicode{{x3C}}script\unicode{{x3E}}{RUN}",
    rf"\begin{{array}}{{c}}<svg onload={RUN}>\end{{array}}",
    r"\rule{1000em}{1000em}\mspace{-900em}\hspace{900em}",
    r"\operatorname{<iframe src=javascript:x>}",
]


@pytest.mark.parametrize("tex", HOSTILE_LATEX)
def test_a_students_latex_gives_no_active_content(tex):
    for source in (f"${tex}$", f"$${tex}$$"):
        nb = notebook([nbformat.v4.new_markdown_cell(source)])
        nb.cells.append(output_cell({"text/latex": source, "text/plain": "x"}, {}))
        sanitise.sanitise_notebook(nb)
        shown = page(nb)
        assert not Active(shown).found
        maths = "".join(re.findall(r"<math.*?</math>", shown, re.S))
        tags = set(re.findall(r"<([a-z][^\s>/]*)", maths))
        assert tags <= sanitise.MATHML_TAGS, tags
        for name, value in re.findall(r'\s([a-z:-]+)="([^"]*)"', maths):
            assert name not in ("href", "style", "class", "src") and "javascript" not in value
            assert not re.search(r"\d{3}em", value), value


# MathML as a student could write it in HTML: MATH_CLEANER keeps none of what it carries.
HOSTILE_MATHML = [
    f"<math><mtext><script>{RUN}</script></mtext></math>",
    f'<math href="javascript:{RUN}"><mi>x</mi></math>',
    f'<math><mi xlink:href="javascript:{RUN}" xmlns:xlink="http://www.w3.org/1999/xlink">x</mi></math>',
    f'<math><semantics><mi>x</mi><annotation-xml encoding="text/html"><img src=x onerror="{RUN}">'
    "</annotation-xml></semantics></math>",
    f'<math><maction actiontype="statusline#{RUN}"><mi>x</mi></maction></math>',
    f'<math><mglyph src="javascript:{RUN}"></mglyph></math>',
    f"<math><mtext><table><mglyph><style><img src=x onerror={RUN}>",
    f'<math><mi onclick="{RUN}" style="position:fixed">x</mi></math>',
    f'<math><mstyle mathbackground="url(javascript:{RUN})"><mi>x</mi></mstyle></math>',
    f"<math><mi><a href=javascript:{RUN}>x</a></mi></math>",
    f"<math><mtext><svg><foreignObject><img src=x onerror={RUN}>",
]


@pytest.mark.parametrize("markup", HOSTILE_MATHML)
def test_mathml_carries_no_script(markup):
    clean = sanitise.MATH_CLEANER.clean(markup)
    assert not Active(clean).found and "javascript" not in clean and RUN not in clean
    assert not re.search(r"<(?:script|img|svg|a|style|maction|mglyph|annotation)", clean)
    assert sanitise.MATH_CLEANER.clean(clean) == clean  # read again, it stays as it is
    # in a student's own HTML output no MathML is kept at all
    html, removed = sanitise.sanitise_html(markup)
    assert "<math" not in html and "<math>" in removed


def test_the_policy_loads_nothing_remote_and_runs_no_script():
    policy = sanitise.CONTENT_SECURITY_POLICY
    assert "http" not in policy and "unsafe-eval" not in policy and "script-src" not in policy
    assert policy.startswith("default-src 'none'")
