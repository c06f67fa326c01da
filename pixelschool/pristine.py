"""A fresh copy of the checks, and a kernel put back as it started, before each graded cell.

- ``checks()``: a submission that rebinds ``tests.test_one_hot`` (or anything in
  ``pixelschool.checks``) changes the modules it imported; each graded test cell imports them
  afresh.
- ``start_kernel()``: ipykernel, as ``python -m ipykernel_launcher`` runs it, that first
  records how it reads, runs and reports a cell (``State``: IPython's transformers, event
  callbacks, display and traceback hooks, tracing, builtins, modules), before any student
  code. Before each graded cell the grader sends ``REQUEST``; the kernel's watch (the grader's
  audit hook, ``launch.py``) puts the state back and tells the grader, over its own channel,
  what it found changed.

This runs in the student's process: it undoes and reports what a cell changed, it is not a
wall. The grader decides what the answers are worth outside the kernel.
"""

import builtins
import contextlib
import importlib.machinery
import importlib.util
import os
import sys
import threading
from functools import partial

CHECK_MODULES = ("problem_unittests", "pixelschool.checks")
REQUEST, REPLY = "pixelschool_state_request", "pixelschool_state_reply"
UNDONE = "could not be put back"  # the start of a sentence of restore()'s
# Audit events the watch answers (launch.py holds a copy of the names)
INSTALL_EVENT, CHECK_EVENT = "pixelschool.pristine.install", "pixelschool.pristine.check"
# Objects whose methods (on the object or anywhere in its class's MRO) must stay as they were
OBJECTS = (
    "shell",
    "shell.kernel",
    "shell.kernel.session",
    "shell.kernel.iopub_socket",
    "shell.events",
    "shell.input_transformer_manager",
    "shell.compile",
    "shell.displayhook",
    "shell.display_pub",
    "shell.display_formatter",
    "shell.InteractiveTB",
    "shell.SyntaxTB",
    "sys.stdout",
    "sys.stderr",
)
# Attributes that must keep their value; for a list or a dict, its items too
SLOTS = (
    *OBJECTS[1:],
    "shell.input_transformer_manager.cleanup_transforms",
    "shell.input_transformer_manager.line_transforms",
    "shell.input_transformer_manager.token_transformers",
    "shell.input_transformers_post",
    "shell.ast_transformers",
    "shell.events.callbacks",
    "shell.custom_exceptions",
    "shell.CustomTB",
    "shell.kernel.shell_handlers",
    "shell.displayhook.session",
    "shell.displayhook.pub_socket",
    "shell.display_pub.session",
    "shell.display_pub.pub_socket",
    "sys.displayhook",
    "sys.excepthook",
    "sys.audit",
    "threading._trace_hook",
    "threading._profile_hook",
)
# Event callbacks a library adds when an honest notebook imports it: (module, name)
ALLOWED_CALLBACKS = (
    ("matplotlib_inline.backend_inline", "flush_figures"),
    ("matplotlib.pyplot", "_draw_all_if_interactive"),
)


def checks():
    """Import ``problem_unittests`` and ``pixelschool.checks.*`` anew and return the former,
    from beside this ``pixelschool`` (where the kit is installed): never a
    ``problem_unittests.py`` that a submission put in the notebook's folder."""
    for name in list(sys.modules):
        if _is_check_module(name):
            del sys.modules[name]
    kit = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.machinery.PathFinder.find_spec("problem_unittests", [kit])
    if spec is None:  # installed apart from pixelschool: wherever Python finds it
        return importlib.import_module("problem_unittests")
    module = sys.modules["problem_unittests"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_check_module(name):
    return any(name == prefix or name.startswith(prefix + ".") for prefix in CHECK_MODULES)


def _code(value):
    """The code object behind a function or method (its body can be swapped), else None."""
    return getattr(getattr(value, "__func__", value), "__code__", None)


def _same(now, then):
    """``now`` is ``then``, with the same code, and for a list or dict the same items."""
    value, code, items = then
    if now is not value or _code(now) is not code:
        return False
    if isinstance(value, list):
        return len(now) == len(items) and all(a is b for a, b in zip(now, items, strict=True))
    if isinstance(value, dict):
        return now.keys() == items.keys() and all(now[k] is v for k, v in items.items())
    return True


def _record(value):
    items = list(value) if isinstance(value, list) else None
    items = dict(value) if isinstance(value, dict) else items
    return value, _code(value), items


def _behaves(value):
    """A callable, or a descriptor (a method, property, trait): what an attribute runs."""
    return callable(value) or hasattr(type(value), "__get__")


def _methods(namespace):
    """{name: record} of the callables and descriptors in ``namespace`` (an object's or a
    class's)."""
    return {name: _record(value) for name, value in namespace.items() if _behaves(value)}


class State:
    """What decides how the kernel reads, runs and reports a cell, as it was at ``__init__``;
    ``restore()`` puts it back and names what had changed."""

    def __init__(self, shell):
        self.roots = {"shell": shell, "sys": sys, "threading": threading}
        self.slots = {}
        for path in SLOTS:
            with contextlib.suppress(AttributeError):  # not in this IPython or ipykernel
                self.slots[path] = _record(self.resolve(path))
        self.callbacks = {e: list(c) for e, c in shell.events.callbacks.items()}
        objects = [shell, *(self.slots[p][0] for p in OBJECTS if p in self.slots)]
        classes = {cls for obj in objects for cls in type(obj).__mro__ if cls is not object}
        self.methods = [(obj, _methods(vars(obj))) for obj in objects if hasattr(obj, "__dict__")]
        self.methods += [(cls, _methods(cls.__dict__)) for cls in classes]
        self.builtins = dict(vars(builtins))
        self.modules = {k: v for k, v in sys.modules.items() if not _is_check_module(k)}
        self.trace = sys.gettrace(), sys.getprofile()

    def resolve(self, path):
        root, *names = path.split(".")
        value = self.roots[root]
        for name in names:
            value = getattr(value, name)
        return value

    def restore(self):
        """Put everything back; sentences naming what had changed (none: nothing had)."""
        slots = [partial(self.put_back, path, then) for path, then in self.slots.items()]
        found = []
        for step in (
            self.put_back_methods,  # first: a class's new descriptor could stand in the way
            *slots,
            self.put_back_callbacks,
            self.put_back_namespaces,
            self.put_back_tracing,
        ):
            try:
                found += step()
            except Exception as error:  # noqa: BLE001  (a kernel made so it cannot be)
                found.append(f"{UNDONE} ({type(error).__name__})")
        return sorted(set(found))

    def put_back(self, path, then):
        owner, name = path.rsplit(".", 1)
        owner = self.resolve(owner)
        if _same(getattr(owner, name, None), then):
            return []
        value, code, items = then
        setattr(owner, name, value)
        if code is not None:
            getattr(value, "__func__", value).__code__ = code
        if isinstance(items, list):
            value[:] = items
        elif isinstance(items, dict):
            value.clear()
            value.update(items)
        return [f"{path} changed"]

    def put_back_callbacks(self):
        """IPython's event callbacks (``shell.events.callbacks`` itself is a slot), less
        those honest libraries add (matplotlib's inline backend)."""
        callbacks = self.roots["shell"].events.callbacks
        found = []
        for event, pristine in self.callbacks.items():
            now = callbacks.setdefault(event, [])
            kept = [*pristine, *(c for c in now if c not in pristine and _allowed(c))]
            if len(now) != len(kept) or any(a is not b for a, b in zip(now, kept, strict=True)):
                now[:] = kept
                found.append(f"IPython's {event} callbacks changed")
        return found

    def put_back_methods(self):
        """Methods replaced on the watched objects or their classes, or their code swapped."""
        found = []
        for owner, methods in self.methods:
            namespace = vars(owner)
            label = owner.__qualname__ if isinstance(owner, type) else type(owner).__qualname__
            for name, then in methods.items():
                if not _same(namespace.get(name), then):
                    setattr(owner, name, then[0])
                    if then[1] is not None:
                        getattr(then[0], "__func__", then[0]).__code__ = then[1]
                    found.append(f"{label}.{name} replaced")
            for name in [n for n in list(namespace) if n not in methods]:
                if _shadows(owner, name, namespace[name]):
                    delattr(owner, name)
                    found.append(f"{label}.{name} replaced")
        return found

    def put_back_namespaces(self):
        """Builtins and modules of the start, changed or gone. (New ones are left: a new
        builtin gives a cell nothing its own names could not, and libraries add them, as
        pybind11 does its internals; new modules are every import's.)"""
        found = []
        for label, namespace, pristine in (
            ("builtins", vars(builtins), self.builtins),
            ("sys.modules", sys.modules, self.modules),
        ):
            for name, value in pristine.items():
                if namespace.get(name) is not value:
                    namespace[name] = value
                    found.append(f"{label}[{name!r}] changed")
        return found

    def put_back_tracing(self):
        if (sys.gettrace(), sys.getprofile()) == self.trace:
            return []
        sys.settrace(self.trace[0])
        sys.setprofile(self.trace[1])
        return ["sys.settrace or sys.setprofile: a trace function was set"]


def _shadows(owner, name, value):
    """A callable new in ``owner``'s namespace that stands in for a method: any callable or
    descriptor on a class, a callable on an object whose class has ``name`` (not the object's
    own bound method, which IPython leaves there after each cell: ``sys.stdout.write``)."""
    if isinstance(owner, type):
        return _behaves(value)
    if not callable(value):
        return False
    if getattr(value, "__self__", None) is owner:
        return getattr(value, "__func__", None) is not getattr(type(owner), name, None)
    return hasattr(type(owner), name)


def _allowed(callback):
    for module, name in ALLOWED_CALLBACKS:
        if callback is getattr(sys.modules.get(module), name, None):
            return True
    return False


def start_kernel(argv):
    """ipykernel with ``argv`` (``-f connection_file ...``), its state recorded for the
    watch and its ``REQUEST`` handler registered before any student code."""
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(argv)
    kernel = app.kernel
    audit, state = sys.audit, None

    def answer(stream, ident, parent):
        nonce = str(parent["content"].get("nonce", ""))
        answered = []
        audit(CHECK_EVENT, nonce, answered)
        if not answered:  # no watch: still put back, without a report
            state.restore()
        kernel.session.send(stream, REPLY, {"nonce": nonce}, parent, ident=ident)

    kernel.shell_handlers[REQUEST] = answer
    state = State(app.shell)
    audit(INSTALL_EVENT, state.restore)
    app.start()
