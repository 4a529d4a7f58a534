//! A sync method that the project already overrides with an `async def` is not tied to it:
//! each is called on its own type, so the sync one keeps its colour under its sync callers.

mod support;

#[test]
fn a_sync_method_overridden_by_an_async_def_keeps_its_sync_callers_working() {
    let program = r#"
import asyncio
import time


class Factory:
    def get(self, path):
        return "sync " + path


class AsyncFactory(Factory):
    async def get(self, path):
        await asyncio.sleep(0)
        return "async " + path


def pause():
    time.sleep(0)


def main():
    pause()
    print(Factory().get("/a"))


if __name__ == "__main__":
    main()
"#;
    let tree = support::assert_equivalent(program, &["main.py"], support::Equiv::default());
    let main = &tree["main.py"];
    assert!(
        main.contains("    def get(self, path):\n        return \"sync \""),
        "{main}"
    );
    assert!(
        main.contains("    await pause()\n    print(Factory().get(\"/a\"))"),
        "{main}"
    );
}
