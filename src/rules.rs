//! The sync->async API catalog: loads and validates `transforms/*.toml`.
//!
//! The table of what becomes what is the product, so it lives in data (one rule per file,
//! each with its own before/after examples) rather than in code. A rule that needs code
//! (keyword mapping, statement expansion) names the Rust pass that performs it.

use serde::Deserialize;
use std::collections::HashMap;
use thiserror::Error;

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// What happens to a matched call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Keep the callee (a method that keeps its name), possibly awaited.
    Keep,
    /// Swap the callee for `replace`, keeping the arguments.
    Replace,
    /// `await asyncio.to_thread(f, *args)`: no async twin, but off the event loop.
    ToThread,
    /// Not convertible faithfully: say so, change nothing.
    Report,
    /// A Rust pass (named by the rule's `pass`) rewrites the call.
    Pass,
}

/// A `[[call]]` (functions by qualified name) or a `[[method]]` (methods of a type tag):
/// what a matched call becomes. One type for both tables, so that a field means the same in
/// each; the few that belong to one table only are checked when the rule is added.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRule {
    /// `[[method]]` only: the type tag whose methods `names` are.
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    /// `[[call]]` only: one qualified name (or `names`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub names: Vec<String>,
    /// Required in a `[[call]]`; a `[[method]]` without one keeps the method as it is.
    #[serde(default)]
    pub action: Option<Action>,
    #[serde(default)]
    pub replace: Option<String>,
    #[serde(default, rename = "await")]
    pub awaited: bool,
    #[serde(default)]
    pub returns: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// `[[call]]` only. Match only when this argument is a value of a catalog type
    /// (`json.load(f)` with `f` a file): the rewrite needs to know what the argument is.
    #[serde(default)]
    pub arg: Option<ArgGuard>,
    /// With `action = "pass"`: the pass writes the `await` itself, inside its replacement
    /// (`json.load(f)` -> `json.loads(await f.read())`), so `await-call` leaves the call alone.
    #[serde(default)]
    pub pass_awaits: bool,
    #[serde(default)]
    pub callable: Option<ArgSpec>,
    /// In a `[[call]]`: the call creates an object whose type the migration changes (a
    /// session, a connection, a file, a lock): it converts together with all of its uses, or
    /// it is kept as it is, with its uses. In a `[[method]]` (with `returns`): the returned
    /// object converts with its receiver (`conn.cursor()` of a converted connection): every
    /// use of it must be mapped too, or the receiver's creation is kept.
    #[serde(default)]
    pub object: bool,
    /// `[[call]]` only. The `[[attribute]]`/`[[method]]` renames of the result (`r.reason`)
    /// apply only where this call converts: a call that stays sync keeps its result's names.
    #[serde(default)]
    pub converted_result: bool,
}

/// One argument of a call, by position and/or keyword, that must have a catalog type.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArgGuard {
    #[serde(default)]
    pub position: Option<usize>,
    #[serde(default)]
    pub keyword: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
}

/// Where a call takes a callable that the rewritten code calls itself (`Thread(target=f)`,
/// `pool.map(f, xs)`): a project function passed there is a call edge for the colouring,
/// not a value that pins it sync.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    /// 0-based position among the positional arguments (receiver excluded).
    #[serde(default)]
    pub position: Option<usize>,
    #[serde(default)]
    pub keyword: Option<String>,
    /// The callable gets the call's remaining arguments (`pool.submit(f, *args, **kwargs)`).
    #[serde(default)]
    pub rest: bool,
    /// The argument holding its positional arguments as a tuple (`Thread(args=...)`).
    #[serde(default)]
    pub args: Option<ArgPos>,
    /// The argument holding its keyword arguments as a dict (`Thread(kwargs=...)`).
    #[serde(default)]
    pub kwargs: Option<ArgPos>,
}

/// One argument of a call, by position and/or keyword.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArgPos {
    #[serde(default)]
    pub position: Option<usize>,
    #[serde(default)]
    pub keyword: Option<String>,
}

/// The lookup entry of a `[[call]]` or `[[method]]` of rule `id`.
fn entry(id: RuleId, e: &EntryRule) -> CallEntry {
    CallEntry {
        rule: id,
        action: e.action.unwrap_or(Action::Keep),
        replace: e.replace.clone(),
        awaited: e.awaited,
        returns: e.returns.clone(),
        message: e.message.clone(),
        arg: e.arg.clone(),
        pass_awaits: e.pass_awaits,
        callable: e.callable.clone(),
        object: e.object,
        converted_result: e.converted_result,
    }
}

/// `with x:` / `for _ in x:` over a value of a catalog type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeUse {
    #[serde(rename = "type")]
    pub ty: String,
    /// `with` becomes `async with` / `for` becomes `async for`.
    #[serde(default, rename = "async")]
    pub make_async: bool,
    /// Type bound by `as` (with) or by the loop target (for).
    #[serde(default)]
    pub binds: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// `"pass"`: the rule's Rust pass rewrites the statement (a `with` whose async form is
    /// not `async with`, such as an SQLite transaction).
    #[serde(default)]
    pub action: Option<Action>,
}

/// An attribute read on a value of a catalog type (`response.ok`). `replace` is either a new
/// attribute name (`reason` -> `reason_phrase`) or an expression template in which `{value}`
/// stands for the receiver (`{value}.status_code < 400`); the rewrite adds parentheses where
/// the template's precedence needs them. Without `replace` the attribute stays as it is: the
/// new type has it too. On an object that converts with its uses, any other attribute read
/// keeps the object (the new type may lack it: `asyncio.Queue` has no `queue`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttrRule {
    #[serde(rename = "type")]
    pub ty: String,
    pub names: Vec<String>,
    #[serde(default)]
    pub replace: Option<String>,
}

/// A blocking API that no rule rewrites in every case (`[[blocking]]`): a call to it left in
/// a coroutine, or the function passed as a value there, is reported, never rewritten.
/// Without `type`, `names` are qualified function names; with it, methods of that type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingRule {
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    /// How the report names the type (`Path` for `pathlib.Path`); default: the type.
    #[serde(default)]
    pub shown: Option<String>,
    pub names: Vec<String>,
    /// The flake8-async rule that flags the same calls (`ASYNC251`).
    pub ruff: String,
    pub advice: String,
}

/// A non-call reference (an exception class, a constant) renamed along with its family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRule {
    pub name: String,
    pub replace: String,
}

/// A class or decorator outside the project that awaits what it calls
/// (`[[async-aware-base]]`, `[[async-aware-decorator]]`). A decorator name ending in `.*`
/// stands for every name under it (`pytest.mark.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwareName {
    pub name: String,
    /// Why it is safe, for the reader of the rule file.
    #[serde(default)]
    pub why: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoChange {
    pub source: String,
}

/// One `transforms/<id>.toml` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub summary: String,
    #[serde(default)]
    pub doc: String,
    /// Packages the migrated code needs (for the dependency report).
    #[serde(default)]
    pub packages: Vec<String>,
    /// The Rust pass used by `action = "pass"` entries.
    #[serde(default)]
    pub pass: Option<PassName>,
    /// The rules whose converted calls make this rule's `[[name]]` renames apply in a module
    /// (`except requests.ConnectionError` only where a requests call became httpx); default:
    /// this rule's own calls.
    #[serde(default)]
    pub names_follow: Vec<String>,
    #[serde(default, rename = "call")]
    pub calls: Vec<EntryRule>,
    #[serde(default, rename = "method")]
    pub methods: Vec<EntryRule>,
    #[serde(default, rename = "with")]
    pub withs: Vec<TypeUse>,
    #[serde(default, rename = "iterate")]
    pub iterates: Vec<TypeUse>,
    #[serde(default, rename = "name")]
    pub names: Vec<NameRule>,
    #[serde(default, rename = "attribute")]
    pub attributes: Vec<AttrRule>,
    /// Bases outside the project whose subclasses' methods may become async.
    #[serde(default, rename = "async-aware-base")]
    pub async_aware_bases: Vec<AwareName>,
    /// Decorators outside the project that keep working on an `async def`.
    #[serde(default, rename = "async-aware-decorator")]
    pub async_aware_decorators: Vec<AwareName>,
    #[serde(default, rename = "blocking")]
    pub blocking: Vec<BlockingRule>,
    #[serde(default, rename = "example")]
    pub examples: Vec<Example>,
    #[serde(default, rename = "no_change")]
    pub no_changes: Vec<NoChange>,
    /// `[names]`: the Python names the rule's passes write or recognise, by role; typed and
    /// checked by [`crate::names::Names::of`] when the built-in catalog loads.
    #[serde(default, rename = "names")]
    pub pass_names: toml::Table,
}

/// Index into the catalog's rule list.
pub type RuleId = usize;

/// What a call or method entry resolves to, with the rule that owns it.
#[derive(Debug, Clone)]
pub struct CallEntry {
    pub rule: RuleId,
    pub action: Action,
    pub replace: Option<String>,
    pub awaited: bool,
    pub returns: Option<String>,
    pub message: Option<String>,
    pub arg: Option<ArgGuard>,
    pub pass_awaits: bool,
    pub callable: Option<ArgSpec>,
    /// As for [`EntryRule::object`] of a `[[call]]` (false for a method).
    pub object: bool,
    /// As for [`EntryRule::converted_result`].
    pub converted_result: bool,
}

/// The loaded, validated catalog with lookup tables.
#[derive(Debug, Default)]
pub struct Catalog {
    pub rules: Vec<Rule>,
    calls: HashMap<String, CallEntry>,
    methods: HashMap<(String, String), CallEntry>,
    withs: HashMap<String, (RuleId, TypeUse)>,
    iterates: HashMap<String, (RuleId, TypeUse)>,
    names: HashMap<String, (RuleId, String)>,
    attributes: HashMap<(String, String), (RuleId, String)>,
    aware_bases: std::collections::HashSet<String>,
    aware_decorators: Vec<String>,
    /// `[[blocking]]` functions by qualified name, and methods by `(type, name)`.
    blocking_calls: HashMap<String, Blocking>,
    blocking_methods: HashMap<(String, String), Blocking>,
    /// The built-in rules' `[names]` (none in a catalog made from scratch, as tests do).
    pass_names: Option<crate::names::Names>,
    /// The `[names]` of the family passes that type their own.
    family_names: crate::names::FamilyNames,
    /// The types a `[[method]]` with `object = true` returns, each with its receiver's type.
    derived: HashMap<String, String>,
    /// `[[attribute]]` entries without `replace`: attributes the new type has too.
    kept_attributes: std::collections::HashSet<(String, String)>,
    /// How many rules are built in: the rules after them are the user's.
    builtin_rules: RuleId,
}

/// What a report of one `[[blocking]]` name says.
#[derive(Debug, Clone)]
pub struct Blocking {
    /// How the report names a method's type (`Path`).
    pub shown: String,
    pub ruff: String,
    pub advice: String,
}

pub use crate::passes::PassName;

impl Catalog {
    /// The built-in catalog compiled from `transforms/`.
    pub fn builtin() -> Result<Catalog, RuleError> {
        let mut catalog = Catalog::default();
        for (file, text) in compiled::CATALOG {
            catalog.add_toml(file, text)?;
        }
        let (names, family) =
            crate::names::Names::of(&catalog.rules).map_err(|message| RuleError::Invalid {
                file: "transforms".into(),
                message,
            })?;
        catalog.pass_names = Some(names);
        catalog.family_names = family;
        catalog.builtin_rules = catalog.rules.len();
        Ok(catalog)
    }

    /// Adds one rule file (built-in or user-supplied), validating it.
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<(), RuleError> {
        let invalid = |message: String| RuleError::Invalid {
            file: file.to_string(),
            message,
        };
        let rule: Rule = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        self.add(rule).map_err(invalid)
    }

    /// Adds one parsed rule, validating it against itself and the rules already added.
    pub fn add(&mut self, rule: Rule) -> Result<(), String> {
        self.check_header(&rule)?;
        let id = self.rules.len();
        self.add_calls(&rule, id)?;
        self.add_methods(&rule, id)?;
        for u in rule.withs.iter().chain(&rule.iterates) {
            if let Some(action) = u.action {
                check_action(&rule, action, &None, &u.ty)?;
            }
        }
        for w in &rule.withs {
            self.withs.insert(w.ty.clone(), (id, w.clone()));
        }
        for it in &rule.iterates {
            self.iterates.insert(it.ty.clone(), (id, it.clone()));
        }
        for n in &rule.names {
            self.names.insert(n.name.clone(), (id, n.replace.clone()));
        }
        self.add_attributes(&rule, id)?;
        self.add_blocking(&rule)?;
        self.aware_bases
            .extend(rule.async_aware_bases.iter().map(|b| b.name.clone()));
        self.aware_decorators
            .extend(rule.async_aware_decorators.iter().map(|d| d.name.clone()));
        self.rules.push(rule);
        self.close_objects();
        Ok(())
    }

    /// A user's `[[call]]` that rewrites its callee and returns a type whose uses some rule
    /// rewrites (`with` → `async with`, `for` → `async for`, an awaited or renamed method)
    /// makes an object, `object = true` or not: a use awaitify cannot convert (a `with` in a
    /// function that stays sync, a value of unknown type) would meet the new object
    /// unconverted, so the creation converts with all of its uses or is kept. Rerun after each
    /// rule, since the call and the uses may come from different rules. The built-in rules
    /// say `object` themselves (their responses, sockets, processes and threads are followed
    /// by their family passes).
    fn close_objects(&mut self) {
        if self.pass_names.is_none() {
            return;
        }
        let converting = |u: &TypeUse| u.make_async || u.action == Some(Action::Pass);
        let mut converted: std::collections::HashSet<&str> = self
            .withs
            .values()
            .chain(self.iterates.values())
            .filter(|(_, u)| converting(u))
            .map(|(_, u)| u.ty.as_str())
            .collect();
        converted.extend(
            self.methods
                .iter()
                .filter(|(_, e)| e.awaited || matches!(e.action, Action::Replace | Action::Pass))
                .map(|((ty, _), _)| ty.as_str()),
        );
        let made: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, e)| {
                !e.object
                    && e.rule >= self.builtin_rules
                    && matches!(e.action, Action::Replace | Action::Pass)
                    && e.returns
                        .as_deref()
                        .is_some_and(|ty| converted.contains(ty))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in made {
            if let Some(e) = self.calls.get_mut(&name) {
                e.object = true;
            }
        }
    }

    /// The rule's id is kebab-case and new, and only a built-in rule has `[names]`.
    fn check_header(&self, rule: &Rule) -> Result<(), String> {
        if rule.id.is_empty()
            || !rule
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!("rule id `{}` must be kebab-case", rule.id));
        }
        if self.rules.iter().any(|r| r.id == rule.id) {
            return Err(format!("duplicate rule id `{}`", rule.id));
        }
        if self.pass_names.is_some() && !rule.pass_names.is_empty() {
            return Err("`[names]` is for the built-in rules' passes".into());
        }
        Ok(())
    }

    /// The rule's `[[call]]` entries, each name matched by one rule only.
    fn add_calls(&mut self, rule: &Rule, id: usize) -> Result<(), String> {
        for call in &rule.calls {
            let mut names = call.names.clone();
            names.extend(call.name.clone());
            if names.is_empty() {
                return Err("a [[call]] needs `name` or `names`".into());
            }
            if call.ty.is_some() {
                return Err(format!("[[call]] `{}`: `type` is for [[method]]", names[0]));
            }
            let Some(action) = call.action else {
                return Err(format!("[[call]] `{}` needs an `action`", names[0]));
            };
            check_action(rule, action, &call.replace, &names[0])?;
            for name in names {
                if self.calls.insert(name.clone(), entry(id, call)).is_some() {
                    return Err(format!("`{name}` is matched by two rules"));
                }
            }
        }
        Ok(())
    }

    /// The rule's `[[method]]` entries, each type and name matched by one rule only.
    fn add_methods(&mut self, rule: &Rule, id: usize) -> Result<(), String> {
        for m in &rule.methods {
            let Some(ty) = &m.ty else {
                return Err("a [[method]] needs a `type`".into());
            };
            let only_calls = [
                ("name", m.name.is_some()),
                ("arg", m.arg.is_some()),
                ("converted_result", m.converted_result),
            ];
            if let Some((field, _)) = only_calls.iter().find(|(_, set)| *set) {
                return Err(format!("[[method]] of `{ty}`: `{field}` is for [[call]]"));
            }
            check_action(rule, m.action.unwrap_or(Action::Keep), &m.replace, ty)?;
            if m.object {
                let Some(returns) = &m.returns else {
                    return Err(format!("[[method]] of `{ty}`: `object` needs `returns`"));
                };
                // A cursor's `execute` returns its own type: the root is the first receiver.
                if returns != ty {
                    self.derived
                        .entry(returns.clone())
                        .or_insert_with(|| ty.clone());
                }
            }
            for name in &m.names {
                let entry = CallEntry {
                    // The method's `object` is about its result (see `derived`).
                    object: false,
                    ..entry(id, m)
                };
                if self
                    .methods
                    .insert((ty.clone(), name.clone()), entry)
                    .is_some()
                {
                    return Err(format!("`{ty}.{name}` is matched by two rules"));
                }
            }
        }
        Ok(())
    }

    /// The rule's `[[attribute]]` entries, whose `replace` is a name or a `{value}` template.
    fn add_attributes(&mut self, rule: &Rule, id: usize) -> Result<(), String> {
        for a in &rule.attributes {
            let Some(replace) = &a.replace else {
                for name in &a.names {
                    self.kept_attributes.insert((a.ty.clone(), name.clone()));
                }
                continue;
            };
            let template = replace.matches("{value}").count();
            let ident = !replace.is_empty()
                && replace
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !(template == 1 || ident) {
                return Err(format!(
                    "[[attribute]] `{replace}`: `replace` must be a name or hold `{{value}}` once"
                ));
            }
            for name in &a.names {
                self.attributes
                    .insert((a.ty.clone(), name.clone()), (id, replace.clone()));
            }
        }
        Ok(())
    }

    /// The rule's `[[blocking]]` entries, each call or method listed once.
    fn add_blocking(&mut self, rule: &Rule) -> Result<(), String> {
        for b in &rule.blocking {
            let entry = Blocking {
                shown: b.shown.clone().or_else(|| b.ty.clone()).unwrap_or_default(),
                ruff: b.ruff.clone(),
                advice: b.advice.clone(),
            };
            for name in &b.names {
                let twice = match &b.ty {
                    Some(ty) => self
                        .blocking_methods
                        .insert((ty.clone(), name.clone()), entry.clone())
                        .is_some(),
                    None => self
                        .blocking_calls
                        .insert(name.clone(), entry.clone())
                        .is_some(),
                };
                if twice {
                    return Err(format!("[[blocking]] `{name}` is listed twice"));
                }
            }
        }
        Ok(())
    }

    /// Whether a rule says the class `qualified` awaits the methods its subclasses override.
    pub fn async_aware_base(&self, qualified: &str) -> bool {
        self.aware_bases.contains(qualified)
    }

    /// Whether a rule says the decorator `qualified` keeps working on an `async def`.
    pub fn async_aware_decorator(&self, qualified: &str) -> bool {
        self.aware_decorators
            .iter()
            .any(|d| match d.strip_suffix(".*") {
                Some(prefix) => qualified
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.')),
                None => d == qualified,
            })
    }

    /// The Python names the passes write or recognise.
    pub fn names(&self) -> &crate::names::Names {
        self.pass_names
            .as_ref()
            .expect("the passes run with the built-in catalog")
    }

    /// The `[names]` of a family pass that types its own (`names:` in its registry line).
    pub fn family_names<T: 'static>(&self, pass: PassName) -> &T {
        self.family_names
            .get(pass)
            .expect("the family passes run with the built-in catalog")
    }

    pub fn call(&self, qualified: &str) -> Option<&CallEntry> {
        self.calls.get(qualified)
    }

    /// The `[[blocking]]` entry of a function, by qualified name.
    pub fn blocking_call(&self, qualified: &str) -> Option<&Blocking> {
        self.blocking_calls.get(qualified)
    }

    /// The `[[blocking]]` entry of a method on a value of type `ty`.
    pub fn blocking_method(&self, ty: &str, name: &str) -> Option<&Blocking> {
        self.blocking_methods
            .get(&(ty.to_string(), name.to_string()))
    }

    /// Whether `ty` is made by an `object = true` call: its values convert with all their
    /// uses or not at all.
    pub fn object_type(&self, ty: &str) -> bool {
        self.calls
            .values()
            .any(|e| e.object && e.returns.as_deref() == Some(ty))
    }

    /// The object type whose creations answer for a value of type `ty`: `ty` itself when a
    /// creation makes it, its receiver's root when a `[[method]]` with `object = true` returns
    /// it (a cursor answers to its connection), `None` for a type whose uses need no mapping.
    pub fn closed_root<'t>(&'t self, mut ty: &'t str) -> Option<&'t str> {
        // Bounded: a rule may return its own receiver's type (a pipeline's commands).
        for _ in 0..8 {
            if self.object_type(ty) {
                return Some(ty);
            }
            ty = self.derived.get(ty)?;
        }
        None
    }

    pub fn method(&self, ty: &str, name: &str) -> Option<&CallEntry> {
        self.methods.get(&(ty.to_string(), name.to_string()))
    }

    pub fn with_use(&self, ty: &str) -> Option<&(RuleId, TypeUse)> {
        self.withs.get(ty)
    }

    pub fn iterate_use(&self, ty: &str) -> Option<&(RuleId, TypeUse)> {
        self.iterates.get(ty)
    }

    /// Whether `ty` is a catalog type tag (a `[[method]]`, `[[with]]` or `[[iterate]]`
    /// type), so that an annotation naming it types the value.
    /// Whether values of type `ty` differ once migrated: some call that makes one is itself
    /// rewritten (`requests.get` → an httpx response, `sqlite3.connect` → an aiosqlite
    /// connection, a cursor now awaited). A `pathlib.Path` is the same value either way.
    pub fn converts_uses(&self, ty: &str) -> bool {
        self.calls.values().chain(self.methods.values()).any(|e| {
            e.returns.as_deref() == Some(ty)
                && match e.action {
                    Action::Replace | Action::Pass => true,
                    Action::Keep => e.awaited,
                    Action::ToThread | Action::Report => false,
                }
        })
    }

    pub fn knows_type(&self, ty: &str) -> bool {
        self.withs.contains_key(ty)
            || self.iterates.contains_key(ty)
            || self.methods.keys().any(|(t, _)| t == ty)
    }

    /// The `[[attribute]]` rule for reading `name` on a value of type `ty`.
    pub fn attribute(&self, ty: &str, name: &str) -> Option<&(RuleId, String)> {
        self.attributes.get(&(ty.to_string(), name.to_string()))
    }

    /// Whether an `[[attribute]]` without `replace` says the new type has it too.
    pub fn attribute_kept(&self, ty: &str, name: &str) -> bool {
        self.kept_attributes
            .contains(&(ty.to_string(), name.to_string()))
    }

    pub fn name(&self, qualified: &str) -> Option<&(RuleId, String)> {
        self.names.get(qualified)
    }

    /// Whether any module name under this prefix is in the catalog (e.g. `time`).
    pub fn knows_module(&self, module: &str) -> bool {
        let prefix = format!("{module}.");
        self.calls
            .keys()
            .chain(self.names.keys())
            .any(|k| k.starts_with(&prefix))
    }

    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id]
    }

    /// Every rule id, in catalog order.
    pub fn rule_ids(&self) -> std::ops::Range<RuleId> {
        0..self.rules.len()
    }

    /// The catalog without the matching entries of the rules in `drop`: their calls, methods,
    /// `with`/`for` uses, names and attributes match nothing, so their code is left as it is
    /// (a test mocks that API, see `mocks`). Rule ids stay the same.
    pub fn without(&self, drop: &std::collections::BTreeSet<RuleId>) -> Catalog {
        fn keep<K: Clone + Eq + std::hash::Hash, V: Clone>(
            map: &HashMap<K, V>,
            rule: impl Fn(&V) -> RuleId,
            drop: &std::collections::BTreeSet<RuleId>,
        ) -> HashMap<K, V> {
            map.iter()
                .filter(|(_, v)| !drop.contains(&rule(v)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        Catalog {
            rules: self.rules.clone(),
            calls: keep(&self.calls, |e| e.rule, drop),
            methods: keep(&self.methods, |e| e.rule, drop),
            withs: keep(&self.withs, |(r, _)| *r, drop),
            iterates: keep(&self.iterates, |(r, _)| *r, drop),
            names: keep(&self.names, |(r, _)| *r, drop),
            attributes: keep(&self.attributes, |(r, _)| *r, drop),
            aware_bases: self.aware_bases.clone(),
            aware_decorators: self.aware_decorators.clone(),
            // Reports only: a mocked API still blocks where it is left in a coroutine.
            blocking_calls: self.blocking_calls.clone(),
            blocking_methods: self.blocking_methods.clone(),
            pass_names: self.pass_names.clone(),
            family_names: self.family_names.clone(),
            derived: self.derived.clone(),
            kept_attributes: self.kept_attributes.clone(),
            builtin_rules: self.builtin_rules,
        }
    }

    /// Every name a rule matches: its calls, the types of its methods, `with`/`for` uses and
    /// attributes, and its renamed names.
    pub fn matched_names(&self, id: RuleId) -> Vec<&str> {
        let rule = &self.rules[id];
        let mut out: Vec<&str> = Vec::new();
        for call in &rule.calls {
            out.extend(call.name.as_deref());
            out.extend(call.names.iter().map(String::as_str));
        }
        out.extend(rule.methods.iter().filter_map(|m| m.ty.as_deref()));
        out.extend(
            rule.withs
                .iter()
                .chain(&rule.iterates)
                .map(|u| u.ty.as_str()),
        );
        out.extend(rule.names.iter().map(|n| n.name.as_str()));
        out.extend(rule.attributes.iter().map(|a| a.ty.as_str()));
        out
    }

    /// The method names the rules match on any type, with the rule of each.
    pub fn method_names(&self) -> impl Iterator<Item = (&str, RuleId)> {
        self.methods.iter().map(|((_, n), e)| (n.as_str(), e.rule))
    }
}

impl Catalog {
    /// The catalog as a Markdown table, one row per rule: the README's catalog section and
    /// `awaitify --list-rules` both come from here, so the documentation cannot go stale.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| rule | what it matches | rewrite |\n|---|---|---|\n");
        for rule in &self.rules {
            let (matched, rewrites) = rule_cells(rule);
            let cell = |v: &[String]| {
                if v.is_empty() {
                    "—".to_string()
                } else {
                    v.join("<br>")
                }
            };
            out.push_str(&format!(
                "| `{}`: {} | {} | {} |\n",
                rule.id,
                rule.summary.replace('|', "\\|"),
                cell(&matched).replace('|', "\\|"),
                cell(&rewrites).replace('|', "\\|")
            ));
        }
        out
    }
}

/// `a.b.x`, `a.b.y` → "`a.b.x`, `a.b.y`", shortened after eight names.
fn compact(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(8).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(8);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// A rule's "what it matches" and "rewrite" cells, as their lines (joined by `<br>`).
fn rule_cells(rule: &Rule) -> (Vec<String>, Vec<String>) {
    let mut matched: Vec<String> = Vec::new();
    let mut rewrites: Vec<String> = Vec::new();
    call_cells(rule, &mut matched, &mut rewrites);
    for w in rule.withs.iter().filter(|w| w.make_async) {
        matched.push(format!("`with` over `{}`", w.ty));
        rewrites.push("`async with`".to_string());
    }
    for it in rule.iterates.iter().filter(|i| i.make_async) {
        matched.push(format!("`for` over `{}`", it.ty));
        rewrites.push("`async for`".to_string());
    }
    for n in &rule.names {
        matched.push(format!("`{}`", n.name));
        rewrites.push(format!("`{}`", n.replace));
    }
    if !rule.async_aware_decorators.is_empty() {
        let names: Vec<String> = rule
            .async_aware_decorators
            .iter()
            .map(|d| format!("@{}", d.name))
            .collect();
        matched.push(compact(&names));
        rewrites.push("kept on the `async def`".to_string());
    }
    if !rule.async_aware_bases.is_empty() {
        let names: Vec<String> = rule
            .async_aware_bases
            .iter()
            .map(|b| b.name.clone())
            .collect();
        matched.push(format!("subclasses of {}", compact(&names)));
        rewrites.push("overrides may become async".to_string());
    }
    for a in &rule.attributes {
        matched.push(format!(
            "`{}`: {}",
            a.ty,
            compact(&a.names.iter().map(|n| format!(".{n}")).collect::<Vec<_>>())
        ));
        rewrites.push(match &a.replace {
            Some(r) => format!("`{r}`"),
            None => "same attribute".to_string(),
        });
    }
    for b in &rule.blocking {
        let names: Vec<String> = match &b.ty {
            Some(_) => b.names.iter().map(|n| format!(".{n}()")).collect(),
            None => b.names.clone(),
        };
        matched.push(match &b.ty {
            Some(ty) => format!("`{ty}`: {}", compact(&names)),
            None => compact(&names),
        });
        rewrites.push(format!("reported in a coroutine ({})", b.ruff));
    }
    (matched, rewrites)
}

/// The lines of a rule's `[[call]]` and `[[method]]` entries in its catalog cells.
fn call_cells(rule: &Rule, matched: &mut Vec<String>, rewrites: &mut Vec<String>) {
    for call in &rule.calls {
        let mut names = call.names.clone();
        names.extend(call.name.clone());
        let what = compact(&names);
        let how = match call.action.unwrap_or(Action::Keep) {
            Action::Replace => format!("`{}`", call.replace.as_deref().unwrap_or_default()),
            Action::ToThread => "`asyncio.to_thread(...)`".to_string(),
            Action::Report => "reported".to_string(),
            Action::Keep => "kept".to_string(),
            Action::Pass => format!("`{}` pass", rule.pass.map_or("", PassName::as_str)),
        };
        let awaited = if call.awaited { "await " } else { "" };
        matched.push(what);
        rewrites.push(format!("{awaited}{how}"));
    }
    for m in &rule.methods {
        matched.push(format!(
            "`{}`: {}",
            m.ty.as_deref().unwrap_or_default(),
            compact(
                &m.names
                    .iter()
                    .map(|n| format!(".{n}()"))
                    .collect::<Vec<_>>()
            )
        ));
        let how = match (m.action.unwrap_or(Action::Keep), &m.replace) {
            (Action::Replace, Some(r)) => format!("`.{r}()`"),
            (Action::ToThread, _) => "`asyncio.to_thread(...)`".to_string(),
            (Action::Report, _) => "reported".to_string(),
            (Action::Pass, _) => {
                format!("`{}` pass", rule.pass.map_or("", PassName::as_str))
            }
            _ => "same method".to_string(),
        };
        rewrites.push(format!("{}{how}", if m.awaited { "await " } else { "" }));
    }
}

/// An action's own needs: "replace" needs `replace`, "pass" needs the rule's `pass`.
fn check_action(
    rule: &Rule,
    action: Action,
    replace: &Option<String>,
    what: &str,
) -> Result<(), String> {
    match action {
        Action::Replace if replace.is_none() => {
            Err(format!("{what}: action \"replace\" needs `replace`"))
        }
        Action::Pass if rule.pass.is_none() => {
            Err(format!("{what}: action \"pass\" needs the rule's `pass`"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn async_aware_names_match_exactly_or_under_a_prefix() {
        let cat = Catalog::builtin().unwrap();
        assert!(cat.async_aware_decorator("pytest.mark.parametrize"));
        assert!(cat.async_aware_decorator("builtins.staticmethod"));
        assert!(cat.async_aware_decorator("unittest.mock.patch.object"));
        assert!(!cat.async_aware_decorator("pytest.mark"));
        assert!(!cat.async_aware_decorator("pytest.markers"));
        assert!(!cat.async_aware_decorator("atexit.register"));
        assert!(cat.async_aware_base("typing_extensions.Protocol"));
        assert!(!cat.async_aware_base("typing_extensions"));
    }

    #[test]
    fn a_blocking_name_listed_twice_fails_when_the_catalog_loads() {
        let entry = "[[blocking]]\nnames = [\"os.popen\"]\nruff = \"A\"\nadvice = \"a\"\n";
        let rule = |n: usize| format!("id = \"x\"\nsummary = \"x\"\n{}", entry.repeat(n));
        let err = Catalog::default()
            .add_toml("x.toml", &rule(2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`os.popen` is listed twice"), "{err}");
        let mut cat = Catalog::default();
        cat.add_toml("x.toml", &rule(1)).unwrap();
        assert_eq!(
            cat.blocking_call("os.popen").map(|b| b.ruff.as_str()),
            Some("A")
        );
        assert!(cat.blocking_method("os", "popen").is_none());
    }

    #[test]
    fn a_misspelt_pass_name_fails_when_the_catalog_loads() {
        let rule = |pass: &str| {
            format!(
                "id = \"x\"\nsummary = \"x\"\npass = \"{pass}\"\n\
                 [[call]]\nname = \"foo.get\"\naction = \"pass\"\n"
            )
        };
        let err = Catalog::default()
            .add_toml("x.toml", &rule("request"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `request`"), "{err}");
        assert!(
            err.contains("requests"),
            "the known names are listed: {err}"
        );
        Catalog::default()
            .add_toml("x.toml", &rule("requests"))
            .unwrap();
    }

    /// `[[call]]` and `[[method]]` share one entry type: a field of the other table, or a
    /// missing `type` or `action`, fails when the rule is added.
    #[test]
    fn a_field_of_the_other_table_fails_when_the_catalog_loads() {
        let rule = |body: &str| format!("id = \"x\"\nsummary = \"x\"\n{body}");
        for (body, says) in [
            (
                "[[call]]\nname = \"a.b\"\naction = \"keep\"\ntype = \"T\"\n",
                "`type` is for [[method]]",
            ),
            (
                "[[call]]\nname = \"a.b\"\n",
                "[[call]] `a.b` needs an `action`",
            ),
            (
                "[[method]]\nnames = [\"m\"]\n",
                "a [[method]] needs a `type`",
            ),
            (
                "[[method]]\ntype = \"T\"\nnames = [\"m\"]\nconverted_result = true\n",
                "`converted_result` is for [[call]]",
            ),
            (
                "[[method]]\ntype = \"T\"\nnames = [\"m\"]\nobject = true\n",
                "`object` needs `returns`",
            ),
        ] {
            let err = Catalog::default()
                .add_toml("x.toml", &rule(body))
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{body}: {err}");
        }
        let mut cat = Catalog::default();
        cat.add_toml(
            "x.toml",
            &rule("[[method]]\ntype = \"T\"\nnames = [\"m\"]\nreturns = \"U\"\nobject = true\n"),
        )
        .unwrap();
        assert_eq!(cat.method("T", "m").map(|e| e.action), Some(Action::Keep));
    }
}
