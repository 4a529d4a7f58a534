//! The walk of a module in chunks of its top-level statements (a class's methods each on
//! their own), so that a later round of the type-knowledge loop walks again only the chunks
//! that read a key that changed.

use super::facts::{Ctx, FIELDS, ModuleFacts, Old};
use super::knowledge::Knowledge;
use super::walk::Walker;
use crate::project::Project;
use crate::rules::Catalog;
use crate::syntax::Node;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Where one chunk of a module's walk ends in each fact vector and in `reads`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chunk {
    ends: [u32; FIELDS],
    reads_end: u32,
}

/// Walks a module. With the facts of the previous round and the knowledge keys that changed
/// since, walks again only the chunks that read one of them, and keeps the rest: a chunk's
/// facts depend only on its syntax, the project and the keys it read.
pub fn match_module(
    p: &Project,
    cat: &Catalog,
    k: &Knowledge,
    m: usize,
    previous: Option<(ModuleFacts, &HashSet<u64>)>,
) -> ModuleFacts {
    let module = &p.modules[m];
    let ix = &module.index;
    let func_by_start: HashMap<usize, usize> = ix
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| (f.start, i))
        .collect();
    let mut w = Walker {
        p,
        cat,
        k,
        m,
        src: &module.source.text,
        ix,
        func_by_start,
        facts: ModuleFacts::default(),
        ancestors: Vec::new(),
        reads: Default::default(),
        aliases_open: Default::default(),
    };
    let (mut old, changed) = match previous {
        Some((facts, changed)) => (Some(Old::new(facts)), Some(changed)),
        None => (None, None),
    };
    let syntax = module.syntax.unpack(&module.source.text);
    let units = units(syntax.root_node());
    let (mut ends, mut reads_start) = ([0u32; FIELDS], 0usize);
    for (c, chunk) in chunks(&units).enumerate() {
        let kept = old.as_mut().zip(changed).and_then(|(old, changed)| {
            let was = old.chunks[c];
            let reads = &old.reads[reads_start..was.reads_end as usize];
            reads_start = was.reads_end as usize;
            let n = std::array::from_fn(|i| was.ends[i] - ends[i]);
            ends = was.ends;
            let clean = !reads.iter().any(|r| changed.contains(r));
            let reads = clean.then(|| reads.to_vec());
            old.take(n, &mut w.facts, clean);
            reads
        });
        match kept {
            Some(reads) => w.facts.reads.extend(reads),
            None => {
                for u in chunk {
                    w.ancestors.clear();
                    w.ancestors.extend_from_slice(&u.path);
                    w.walk(u.node, u.ctx, None);
                }
                let mut reads: Vec<u64> = w.reads.take().into_iter().collect();
                reads.sort_unstable();
                w.facts.reads.extend(reads);
            }
        }
        let chunk = Chunk {
            ends: w.facts.lens(),
            reads_end: w.facts.reads.len() as u32,
        };
        w.facts.chunks.push(chunk);
    }
    shrink(&mut w.facts);
    if cfg!(debug_assertions) {
        // The tests check that the units cover the module as one walk from the root would.
        let mut whole = Walker {
            facts: ModuleFacts::default(),
            ancestors: Vec::new(),
            reads: Default::default(),
            func_by_start: std::mem::take(&mut w.func_by_start),
            ..w
        };
        whole.walk(syntax.root_node(), Ctx::Module, None);
        shrink(&mut whole.facts);
        let (reads, chunks) = (
            std::mem::take(&mut w.facts.reads),
            std::mem::take(&mut w.facts.chunks),
        );
        debug_assert_eq!(
            format!("{:?}", whole.facts),
            format!("{:?}", w.facts),
            "{}: the chunked walk differs from a walk from the root",
            module.display
        );
        (w.facts.reads, w.facts.chunks) = (reads, chunks);
    }
    w.facts
}

/// A piece of a module the walk can visit on its own: a top-level statement, or, for a
/// top-level class, its decorators, its bases and each statement of its body (the methods).
/// `path` is the walk's ancestors above `node`, as in a walk from the root.
struct Unit<'a> {
    node: Node<'a>,
    ctx: Ctx,
    path: Vec<Node<'a>>,
}

fn units(root: Node<'_>) -> Vec<Unit<'_>> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for c in root.named_children(&mut cursor) {
        let (decorated, class) = match c.kind() {
            "class_definition" => (None, Some(c)),
            "decorated_definition" => match c.child_by_field_name("definition") {
                Some(d) if d.kind() == "class_definition" => (Some(c), Some(d)),
                _ => (None, None),
            },
            _ => (None, None),
        };
        let Some(class) = class else {
            out.push(Unit {
                node: c,
                ctx: Ctx::Module,
                path: vec![root],
            });
            continue;
        };
        let mut path = vec![root];
        if let Some(d) = decorated {
            path.push(d);
            let mut cursor = d.walk();
            for deco in d.named_children(&mut cursor).filter(|n| *n != class) {
                out.push(Unit {
                    node: deco,
                    ctx: Ctx::Module,
                    path: path.clone(),
                });
            }
        }
        path.push(class);
        if let Some(sup) = class.child_by_field_name("superclasses") {
            out.push(Unit {
                node: sup,
                ctx: Ctx::Module,
                path: path.clone(),
            });
        }
        if let Some(body) = class.child_by_field_name("body") {
            path.push(body);
            let mut cursor = body.walk();
            for stmt in body.named_children(&mut cursor) {
                out.push(Unit {
                    node: stmt,
                    ctx: Ctx::ClassBody,
                    path: path.clone(),
                });
            }
        }
    }
    out
}

/// Consecutive units grouped into chunks of at least `CHUNK_BYTES` of source (or the rest of
/// the module): finer chunks walk less again, but each costs its bookkeeping for the run.
fn chunks<'u, 'a>(units: &'u [Unit<'a>]) -> impl Iterator<Item = &'u [Unit<'a>]> {
    const CHUNK_BYTES: usize = 2048;
    let mut rest = units;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let start = first.node.start_byte();
        let n = rest
            .iter()
            .position(|u| u.node.end_byte() - start >= CHUNK_BYTES)
            .map_or(rest.len(), |i| i + 1);
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// Facts live for the whole run: no spare capacity.
fn shrink(f: &mut ModuleFacts) {
    f.calls.shrink_to_fit();
    f.refs.shrink_to_fit();
    f.unresolved.shrink_to_fit();
    f.local_obs.shrink_to_fit();
    f.attr_obs.shrink_to_fit();
    f.param_obs.shrink_to_fit();
    f.return_obs.shrink_to_fit();
}
