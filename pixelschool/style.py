"""The notebooks' look: inline the course stylesheet (``pixelschool/custom.css``, package data)
into the page, so it travels with the package to students, the grading sandbox and feedback."""

from pathlib import Path

STYLESHEET = Path(__file__).with_name("custom.css")


def inline_css(path=STYLESHEET):
    """Display the course stylesheet as an HTML ``<style>`` output (a no-op outside Jupyter)."""
    from IPython.display import HTML, display

    try:
        css = Path(path).read_text(encoding="utf-8")
    except OSError:
        return  # the notebook works without its styles; no path of anyone's machine is shown
    display(HTML(f"<style>{css}</style>"))
