"""The notebooks' look: inline admin/custom.css into the page."""

from coursekit.config import ADMIN_DIR


def inline_css(path=ADMIN_DIR / "custom.css"):
    """Display the course stylesheet as an HTML ``<style>`` output (a no-op outside Jupyter)."""
    from IPython.display import HTML, display

    try:
        css = path.read_text(encoding="utf-8")
    except OSError:
        print(f"(course styles not found at {path}; the notebook works without them)")
        return
    display(HTML(f"<style>{css}</style>"))
