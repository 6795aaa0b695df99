#!/usr/bin/env python3
"""Checks that orchestrator/'s includes point down its layers, with no circle.

    ci/lint/layers.py [TREE]      TREE: the folder holding the layers
                                  (default: orchestrator/ of this repository)

Each folder of TREE is a layer; a file may include headers of its own layer
and of the layers below it, never above (docs/architecture.md):

    util < model < plan < steps < image < lab < check < cli

A module is a file's name without .c or .h (lab/state.c and lab/state.h are
one): no module may reach itself through includes, within a layer or across.
Prints each finding as FILE:LINE: message; exits 0 when there is none, 1
when there is, 2 on a usage error.
"""
import os
import re
import sys

LAYERS = ["util", "model", "plan", "steps", "image", "lab", "check", "cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def modules(tree):
    """{module: [(file, line, included module)]}, and findings so far."""
    found, problems = {}, []
    for layer in sorted(os.listdir(tree)):
        folder = os.path.join(tree, layer)
        if not os.path.isdir(folder):
            continue
        if layer not in LAYERS:
            problems.append("%s: a folder that is no layer (%s)" % (folder, ", ".join(LAYERS)))
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(folder, name)
            module = "%s/%s" % (layer, name[:-2])
            edges = found.setdefault(module, [])
            with open(path, encoding="utf-8") as f:
                for number, text in enumerate(f, 1):
                    m = INCLUDE.match(text)
                    if m:
                        edges.append((path, number, m.group(1)))
    return found, problems


def check(tree):
    found, problems = modules(tree)
    graph = {}
    for module, edges in sorted(found.items()):
        layer = module.split("/")[0]
        for path, number, header in edges:
            if "/" not in header:
                problems.append("%s:%d: \"%s\": name the header's layer (\"LAYER/%s\")" % (path, number, header, header))
                continue
            target = header[:-2] if header.endswith(".h") else header
            if target not in found:
                problems.append("%s:%d: \"%s\": no such header in %s" % (path, number, header, tree))
                continue
            up = target.split("/")[0]
            if LAYERS.index(up) > LAYERS.index(layer):
                problems.append("%s:%d: %s includes %s, a layer above it (%s)"
                                % (path, number, layer, up, " < ".join(LAYERS)))
            if target != module:
                graph.setdefault(module, set()).add(target)
    for cycle in cycles(graph):
        problems.append("%s: an include circle: %s" % (tree, " -> ".join(cycle + [cycle[0]])))
    return problems


def cycles(graph):
    """One circle per strongly connected component of more than one module
    (Tarjan's algorithm, iterative), each as the path that closes it."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return [path_through(graph, set(c)) for c in sorted(components)]


def path_through(graph, component):
    """A circle within COMPONENT, from its first module back to it."""
    start = min(component)
    parent, queue = {start: None}, [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph.get(node, ())):
            if child == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return list(reversed(path))
            if child in component and child not in parent:
                parent[child] = node
                queue.append(child)
    return sorted(component)


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    tree = argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "orchestrator")
    tree = os.path.normpath(tree)
    if not os.path.isdir(tree):
        print("layers: %s: no such folder" % tree, file=sys.stderr)
        return 2
    problems = check(tree)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
