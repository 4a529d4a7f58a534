//! `redis`: `redis.Redis(...)` -> `redis.asyncio.Redis(...)` and `redis.from_url(url)` ->
//! `redis.asyncio.from_url(url)`, with the arguments mapped onto the async client's
//! constructor.
//!
//! Why a pass: the async client's constructor takes keywords only (`def __init__(self, *,
//! host=...)`), and its parameters are not the sync one's. Every positional argument is
//! written as the keyword it binds in the sync signature (`Redis("h", 6380)` ->
//! `redis.asyncio.Redis(host="h", port=6380)`). A keyword the async client does not take
//! (`cache=`, `ssl_validate_ocsp=`), an object of the sync client's world (`connection_pool=`
//! a sync pool), or a `*args`/`**kwargs` that may hold either keeps the client sync with
//! every use of it (`object-kept`): the async constructor would raise `TypeError`, or the
//! client would block on the sync object.
//!
//! The commands, `pipeline()`, `close()` -> `aclose()` and `async with` are the rule file's
//! (`transforms/redis-asyncio.toml`); this pass only makes the client.

use super::args::Args;
use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::{CallFact, Target};
use crate::parse::text;
use crate::rules::{CallEntry, PassName};
use serde::Deserialize;
use tree_sitter::Node;

/// The `[names]` of `transforms/redis-asyncio.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// The sync client classes (`redis.Redis`, `redis.StrictRedis`).
    pub clients: Vec<String>,
    /// The factories that make a client from a URL (`redis.from_url`).
    pub from_url: Vec<String>,
    pub async_client: String,
    pub async_from_url: String,
    /// The sync client's constructor parameters, in order (`self` left out).
    pub parameters: Vec<String>,
    /// The async client's (keyword-only).
    pub async_parameters: Vec<String>,
    /// Parameters that take an object of the sync client's world (a connection pool, a
    /// retry policy): only a literal `None` passes to the async client.
    pub sync_objects: Vec<String>,
}

const ORIGIN: Origin = Origin::Family(PassName::Redis);

/// Rewrites one client creation; false when the call is not one (it is then reported).
pub fn rewrite(cx: &PassCx, c: &CallFact, _entry: &CallEntry, out: &mut PassOut) -> bool {
    let n: &Names = cx.cat.family_names(PassName::Redis);
    let Target::Rule(q) = &c.target else {
        return false;
    };
    let (new, url) = if n.clients.contains(q) {
        (&n.async_client, false)
    } else if n.from_url.contains(q) {
        (&n.async_from_url, true)
    } else {
        return false;
    };
    let Some(args) = cx.node(c.start, c.end).and_then(|c| Args::of(c, cx.src())) else {
        return false;
    };
    match keywords_for(n, &args, cx.src(), url) {
        Ok(named) => {
            for (arg, keyword) in named {
                out.edits
                    .push(Edit::insert(arg.start_byte(), format!("{keyword}="), ORIGIN));
            }
            out.edits
                .push(Edit::replace(c.callee.0, c.callee.1, new.as_str(), ORIGIN));
            out.imports.insert(crate::names::module(new).into());
            out.rewritten += 1;
        }
        Err(why) => {
            let what = &cx.src()[c.callee.0..c.callee.1];
            out.keep.push(cx.keep_creation(
                c,
                "object-kept",
                format!("`{what}(...)` stays as it is, with every use of it: {why}"),
            ));
        }
    }
    true
}

/// The positional arguments, each with the keyword it binds (the async client takes keywords
/// only); `Err` says why the call cannot move to it.
fn keywords_for<'t, 'n>(
    n: &'n Names,
    args: &Args<'t>,
    src: &str,
    url: bool,
) -> Result<Vec<(Node<'t>, &'n str)>, String> {
    if args.splat {
        return Err(
            "`*args`/`**kwargs` may hold an argument the async client does not take".into(),
        );
    }
    // An argument the async client takes as it is, or else why not.
    let passes = |k: &str, value: Node| {
        let listed = |l: &[String]| l.iter().any(|p| p == k);
        if listed(&n.sync_objects) && text(value, src) != "None" {
            Err(format!("`{k}=` takes a sync object, which the async client cannot use"))
        } else if !listed(&n.async_parameters) && (!url || listed(&n.parameters)) {
            // `from_url` passes its keywords on to the connection, which takes more than
            // the constructor: only the sync client's own parameters are checked there.
            Err(format!("the async client takes no `{k}=`"))
        } else {
            Ok(())
        }
    };
    for (k, value) in &args.keywords {
        passes(k, *value)?;
    }
    if url {
        return match args.positional.len() {
            0 | 1 => Ok(Vec::new()),
            _ => Err("`from_url` takes its options as keywords".into()),
        };
    }
    let mut named = Vec::new();
    for (i, arg) in args.positional.iter().enumerate() {
        let Some(keyword) = n.parameters.get(i) else {
            return Err(format!("it has more positional arguments ({}) than parameters", i + 1));
        };
        passes(keyword, *arg)?;
        named.push((*arg, keyword.as_str()));
    }
    Ok(named)
}
