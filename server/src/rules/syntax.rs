//! Small tree-sitter-go helpers the rules share: node text and spans, walking, enclosing
//! functions and loops, calls and their callees, and package-level names.

use tree_sitter::Node;

use crate::source::model::Span;

/// The text of a node (empty if the range is not on character boundaries).
pub fn text<'a>(node: Node<'_>, src: &'a str) -> &'a str {
    src.get(node.byte_range()).unwrap_or("")
}

/// A node's byte range and 1-based lines.
pub fn span(node: Node<'_>) -> Span {
    Span {
        start_byte: node.start_byte(),
        end_byte: node.end_byte(),
        start_line: node.start_position().row as u32 + 1,
        end_line: node.end_position().row as u32 + 1,
    }
}

/// Every node below `node` (itself included), in document order, iteratively.
pub fn descendants(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    let mut cursor = node.walk();
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let current = cursor.node();
        if cursor.goto_first_child() {
            return Some(current);
        }
        loop {
            if cursor.node() == node {
                done = true;
                return Some(current);
            }
            if cursor.goto_next_sibling() {
                return Some(current);
            }
            if !cursor.goto_parent() {
                done = true;
                return Some(current);
            }
        }
    })
}

/// Descendants of a given kind.
pub fn descendants_of_kind<'t>(
    node: Node<'t>,
    kind: &'static str,
) -> impl Iterator<Item = Node<'t>> {
    descendants(node).filter(move |n| n.kind() == kind)
}

/// The ancestors of a node, nearest first.
pub fn ancestors(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    std::iter::successors(node.parent(), |n| n.parent())
}

/// Whether a node kind starts a function body scope.
pub fn is_function(kind: &str) -> bool {
    matches!(
        kind,
        "function_declaration" | "method_declaration" | "func_literal"
    )
}

/// The innermost function, method or function literal around a node.
pub fn enclosing_function(node: Node<'_>) -> Option<Node<'_>> {
    ancestors(node).find(|n| is_function(n.kind()))
}

/// The innermost top-level function or method declaration around a node.
pub fn enclosing_declaration(node: Node<'_>) -> Option<Node<'_>> {
    ancestors(node).find(|n| matches!(n.kind(), "function_declaration" | "method_declaration"))
}

/// The innermost `for` statement around a node inside the same function (a function
/// literal in between ends the search).
pub fn enclosing_loop(node: Node<'_>) -> Option<Node<'_>> {
    for n in ancestors(node) {
        if is_function(n.kind()) {
            return None;
        }
        if n.kind() == "for_statement" {
            return Some(n);
        }
    }
    None
}

/// The name of a function or method declaration (`Touch`, `Put`).
pub fn function_name<'a>(decl: Node<'_>, src: &'a str) -> Option<&'a str> {
    decl.child_by_field_name("name").map(|n| text(n, src))
}

/// For a `call_expression`, the callee as written: `make`, `time.NewTicker`, `t.Stop`.
pub fn callee<'a>(call: Node<'_>, src: &'a str) -> Option<&'a str> {
    (call.kind() == "call_expression")
        .then(|| call.child_by_field_name("function"))
        .flatten()
        .map(|f| text(f, src))
}

/// For a `call_expression`, the name called: `f` of `f(x)` and of `a.b.f(x)`.
pub fn called_name<'a>(call: Node<'_>, src: &'a str) -> Option<&'a str> {
    let mut f = call.child_by_field_name("function")?;
    while f.kind() == "parenthesized_expression" {
        f = f.named_child(0)?;
    }
    match f.kind() {
        "identifier" => Some(text(f, src)),
        "selector_expression" => f.child_by_field_name("field").map(|n| text(n, src)),
        _ => None,
    }
}

/// The argument nodes of a call.
pub fn call_args(call: Node<'_>) -> Vec<Node<'_>> {
    call.child_by_field_name("arguments")
        .map(|a| {
            let mut c = a.walk();
            a.named_children(&mut c).collect()
        })
        .unwrap_or_default()
}

/// Whether a node is at package level (no function around it).
pub fn is_package_level(node: Node<'_>) -> bool {
    enclosing_function(node).is_none()
}

/// The statement that contains a node: the nearest ancestor (or itself) whose parent is a
/// block or statement list.
pub fn statement_of(node: Node<'_>) -> Node<'_> {
    let mut n = node;
    while let Some(p) = n.parent() {
        if matches!(p.kind(), "block" | "statement_list" | "source_file") {
            return n;
        }
        n = p;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse::parse_tree;

    #[test]
    fn walks_and_finds_enclosing_constructs() {
        let src = "package p\n\nfunc F() {\n\tfor i := 0; i < 3; i++ {\n\t\tdefer g(i)\n\t\tgo func() { h() }()\n\t}\n}\n";
        let tree = parse_tree(src, None).unwrap();
        let root = tree.root_node();
        let calls: Vec<&str> = descendants_of_kind(root, "call_expression")
            .filter_map(|c| callee(c, src))
            .collect();
        assert_eq!(calls, ["g", "func() { h() }", "h"]);
        let defer = descendants_of_kind(root, "defer_statement").next().unwrap();
        assert!(enclosing_loop(defer).is_some());
        assert_eq!(span(defer).start_line, 5);
        let h = descendants_of_kind(root, "call_expression")
            .find(|c| callee(*c, src) == Some("h"))
            .unwrap();
        assert!(
            enclosing_loop(h).is_none(),
            "a func literal ends the loop search"
        );
        assert_eq!(enclosing_function(h).unwrap().kind(), "func_literal");
        assert_eq!(
            function_name(enclosing_declaration(h).unwrap(), src),
            Some("F")
        );
        assert!(!is_package_level(h));
        assert_eq!(statement_of(h).kind(), "expression_statement");
    }
}
