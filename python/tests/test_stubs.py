"""python/statenet.pyi against the built module: every public name of the module and of
its classes has a stub, every stub names something the module has, and each method's
parameters are the ones the binding takes (names, order, keyword-only marks)."""

import ast
import inspect
import os
import re
import unittest

import statenet

STUBS = os.environ.get("STATENET_STUBS") or os.path.join(os.path.dirname(__file__), "..", "statenet.pyi")


def stub_tree():
    with open(STUBS, encoding="utf-8") as f:
        return ast.parse(f.read(), STUBS)


def public(name):
    return not name.startswith("_") or name in ("__init__", "__iter__", "__next__", "__version__")


def stub_members(node):
    """Names a class stub declares: methods, properties, annotated attributes."""
    names = set()
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            names.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            names.add(item.target.id)
    return {n for n in names if public(n)}


def runtime_members(cls):
    if issubclass(cls, BaseException):  # statenet's exceptions: attributes set when raised
        return set()
    return {n for n, v in vars(cls).items() if public(n) and not (n == "__init__" and type(v).__name__ == "wrapper_descriptor")}


def binding_parameters(function):
    """The parameters pybind11 writes in the first docstring line: (self, a: T, *, b: T = x)."""
    first = (function.__doc__ or "").split("\n")[0]
    match = re.match(r"^\w+\((.*)\) -> .*$", first)
    if not match:
        return None
    params, depth, current = [], 0, ""
    for char in match.group(1):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "," and depth == 0:
            params.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        params.append(current.strip())
    return [p.split(":")[0].split("=")[0].strip() for p in params]


def stub_parameters(node):
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args]
    if args.kwonlyargs:
        names.append("*")
        names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return names


class StubTest(unittest.TestCase):
    def setUp(self):
        self.tree = stub_tree()
        self.classes = {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}

    def test_every_public_name_has_a_stub_and_back(self):
        declared = set(self.classes)
        for node in self.tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                declared.add(node.target.id)
            elif isinstance(node, ast.FunctionDef):
                declared.add(node.name)
        declared = {n for n in declared if public(n)}
        module = {n for n in dir(statenet) if public(n) and not inspect.ismodule(getattr(statenet, n))}
        self.assertEqual(sorted(module - declared), [], "public names without a stub")
        self.assertEqual(sorted(declared - module), [], "stubs of names the module does not have")

    def test_every_class_member_has_a_stub_and_back(self):
        for name, node in self.classes.items():
            cls = getattr(statenet, name)
            with self.subTest(cls=name):
                runtime = runtime_members(cls)
                stubbed = stub_members(node)
                self.assertEqual(sorted(runtime - stubbed), [], f"{name} members without a stub")
                if not issubclass(cls, BaseException):
                    self.assertEqual(sorted(stubbed - runtime), [], f"{name} stubs the module does not have")

    def test_method_parameters_match_the_bindings(self):
        checked = 0
        for name, node in self.classes.items():
            cls = getattr(statenet, name)
            overloaded = {f.name for f in node.body if isinstance(f, ast.FunctionDef)
                          and any(isinstance(d, ast.Name) and d.id == "overload" for d in f.decorator_list)}
            for item in node.body:
                if not isinstance(item, ast.FunctionDef) or item.name in overloaded:
                    continue
                if any(isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list):
                    continue
                runtime = binding_parameters(getattr(cls, item.name))
                if runtime is None:
                    continue
                with self.subTest(method=f"{name}.{item.name}"):
                    self.assertEqual(stub_parameters(item), runtime)
                    checked += 1
        self.assertGreater(checked, 40)


if __name__ == "__main__":
    unittest.main()
