//! A family whose rewrite needs a pass (`transforms/redis-asyncio.toml` plus
//! `src/passes/redis.rs`, the README's "Adding a family"): a client talks to a small RESP
//! server on 127.0.0.1 before and after the migration, with the same output.

mod support;

use support::{Equiv, assert_equivalent, migrate_main};

/// The output and the diagnostics (`code: message`) of migrating one module.
fn migrate(src: &str) -> (String, Vec<String>) {
    let m = awaitify::run::migrate_texts(
        &[("main.py", src)],
        &awaitify::rules::Catalog::builtin().unwrap(),
    );
    let f = &m.files[0];
    let diags = m
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    (f.new.clone().unwrap_or_else(|| f.old.clone()), diags)
}

const CLIENT: &str = include_str!("fixtures/redis_client.py");

#[test]
fn redis_client_runs_the_same_on_redis_asyncio() {
    let tree = assert_equivalent(CLIENT, &["main.py"], Equiv::default());
    let main = &tree["main.py"];
    for line in [
        // The async constructor takes keywords only: positional arguments are named.
        "    r = redis.asyncio.Redis(host=\"127.0.0.1\", port=port, decode_responses=True, protocol=2)\n",
        "    totals = {page: int(await r.get(f\"visits:{page}\")) for page in sorted(set(pages))}\n",
        "    await r.aclose()\n",
        "    async with redis.asyncio.Redis(host=\"127.0.0.1\", port=port, decode_responses=True, protocol=2) as r:\n",
        "    r = redis.asyncio.from_url(url, decode_responses=True, protocol=2)\n",
        "    async with r.pipeline() as pipe:\n",
        // Buffered in the pipeline, as before: not awaited.
        "            pipe.rpush(\"events\", event)\n",
        "        print(\"pipeline\", await pipe.execute())\n",
        // Made in a sync `__init__`, used in a coroutine.
        "        self.r = redis.asyncio.Redis(port=port, protocol=2)\n",
        "        await self.r.set(key, value)\n",
        // `pubsub()` has no entry: that client stays sync.
        "    r = redis.Redis(port=port, protocol=2)\n",
        "    return r.ping()\n",
    ] {
        assert!(main.contains(line), "missing {line:?} in:\n{main}");
    }
}

/// Each argument the async client cannot take keeps the client sync, with every use of it,
/// and says why.
#[test]
fn an_argument_the_async_client_cannot_take_keeps_the_client() {
    for (args, why) in [
        (
            "cache_config=config",
            "the async client takes no `cache_config=`",
        ),
        (
            "connection_pool=pool",
            "`connection_pool=` takes a sync object",
        ),
        ("**options", "`*args`/`**kwargs` may hold an argument"),
        (
            "\"h\", 6379, 0, None, None, None, 65536, None, None, pool",
            "`connection_pool=` takes a sync object",
        ),
    ] {
        let src = format!(
            "import redis\n\n\ndef get(key, config, pool, options):\n    r = redis.Redis({args})\n    return r.get(key)\n"
        );
        let (out, diags) = migrate(&src);
        assert_eq!(out, src, "{args}: changed");
        assert!(
            diags
                .iter()
                .any(|d| d.contains("object-kept") && d.contains(why)),
            "{args}: {diags:?}"
        );
    }
}

/// `None` for a parameter that takes a sync object is no object: the client converts, with
/// every positional argument named.
#[test]
fn positional_arguments_are_named_and_none_passes() {
    let src = "import redis\n\n\ndef get(key):\n    r = redis.Redis(\"h\", 6379, 0, None, None, None, 65536, None, None, None)\n    return r.get(key)\n";
    let (out, _) = migrate_main(src);
    assert!(
        out.contains(
            "    r = redis.asyncio.Redis(host=\"h\", port=6379, db=0, password=None, \
             socket_timeout=None, socket_connect_timeout=None, socket_read_size=65536, \
             socket_keepalive=None, socket_keepalive_options=None, connection_pool=None)\n"
        ),
        "{out}"
    );
    assert!(out.contains("    return await r.get(key)\n"), "{out}");
}
