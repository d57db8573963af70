// The templating layer's contract (SPEC §4): native values, strict undefined with guards, errors, caching.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NoetlError } from "../../src/errors";
import {
  checkTemplate,
  evaluateCondition,
  isTemplate,
  renderString,
  renderValue,
  TemplateError,
} from "../../src/template";
import { compileTemplate, templateCacheSize } from "../../src/template/compile";

const ctx = (): Record<string, unknown> => ({
  n: 5,
  items: [1, 2, 3],
  flag: false,
  who: "world",
  nothing: null,
  obj: { a: 1, nested: { b: "deep" }, list: [{ k: "x" }, { k: "y" }], "dash-key": 7 },
  output: { status: "ok", data: { n: 41, who: "noetl" } },
});

function fails(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TemplateError, `expected a TemplateError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the render to throw");
}

describe("isTemplate", () => {
  it("spots expressions and statements only", () => {
    assert.equal(isTemplate("a {{ b }}"), true);
    assert.equal(isTemplate("{% if a %}x{% endif %}"), true);
    assert.equal(isTemplate("plain {text} {# no #}"), false);
  });
});

describe("native values", () => {
  it("a single expression yields its value", () => {
    const c = ctx();
    assert.equal(renderString("{{ n }}", c), 5);
    assert.equal(renderString("{{ items }}", c), c.items);
    assert.equal(renderString("{{ output.data.n + 1 }}", c), 42);
    assert.equal(renderString("{{ flag }}", c), false);
    assert.equal(renderString("{{ nothing }}", c), null);
    assert.deepEqual(renderString("{{ obj.nested }}", c), { b: "deep" });
    assert.equal(renderString("  {{ n }}\n", c), 5);
    assert.equal(renderString("{{ n * 2 }}", c), 10);
  });

  it("text otherwise; a filter producing a string yields the string", () => {
    const c = ctx();
    assert.equal(renderString("{{ n }}-{{ who }}", c), "5-world");
    assert.equal(renderString("{{ items | tojson }}", c), "[1,2,3]");
    assert.equal(renderString("x {{ items }} {{ obj.nested }}", c), 'x [1,2,3] {"b":"deep"}');
    assert.equal(renderString("[{{ nothing }}]", c), "[]");
    assert.equal(renderString("no template", c), "no template");
  });

  it('"true"/"false" results become booleans', () => {
    assert.equal(renderString("{{ 'true' }}", {}), true);
    assert.equal(renderString("{% if n %}true{% else %}false{% endif %}", ctx()), true);
    assert.equal(renderString("{{ flag }}{{ '' }}", ctx()), false);
    assert.equal(renderString("is {{ flag }}", ctx()), "is false");
  });

  it("Jinja literals True, False, None", () => {
    assert.equal(renderString("{{ True }}", {}), true);
    assert.equal(renderString("{{ False or None }}", {}), null);
    assert.equal(renderString("{{ none }}", {}), null);
  });
});

describe("strict undefined", () => {
  it("names the variable, the step and the field", () => {
    const err = fails(() =>
      renderString("{{ not_defined_anywhere.field }}", {}, { step: "uses_missing", field: "input.v" }),
    );
    assert.equal(err.message, 'step "uses_missing", field "input.v": "not_defined_anywhere" is undefined');
    assert.equal(err.code, "TEMPLATE");
    assert.ok(err instanceof NoetlError);
    assert.equal(err.details.variable, "not_defined_anywhere");
    assert.equal(err.details.step, "uses_missing");
  });

  it("a missing attribute of a defined object names the path", () => {
    assert.equal(fails(() => renderString("{{ obj.missing }}", ctx())).details.variable, "obj.missing");
    assert.equal(fails(() => renderString("{{ obj.nested.zz }}", ctx())).details.variable, "obj.nested.zz");
    assert.equal(fails(() => renderString("{{ obj.list[5].k }}", ctx())).details.variable, "obj.list[5]");
    assert.equal(fails(() => renderString("{{ nothing.x }}", ctx())).details.variable, "nothing.x");
    assert.equal(fails(() => renderString("a {{ x | upper }}", ctx())).details.variable, "x");
    assert.equal(fails(() => renderString("{% if q %}1{% endif %}", ctx())).details.variable, "q");
    assert.equal(fails(() => renderString("{{ n + q }}", ctx())).details.variable, "q");
  });

  it("default and is defined guard, lazily", () => {
    const c = ctx();
    assert.equal(renderString("{{ maybe | default('fallback') }}", c), "fallback");
    assert.equal(renderString("{{ maybe.deep.er | d('f') }}", c), "f");
    assert.equal(renderString("{{ obj.missing | default(3) }}", c), 3);
    assert.equal(renderString("{{ x is defined }}", c), false);
    assert.equal(renderString("{{ obj.a is defined }}", c), true);
    assert.equal(renderString("{{ x is undefined }}", c), true);
    assert.equal(renderString("{{ x if x is defined else 1 }}", c), 1);
    assert.equal(renderString("{% if x is defined %}{{ x }}{% else %}none{% endif %}", c), "none");
    assert.equal(renderString("{{ x is defined and x.y }}", c), false);
    assert.equal(renderString("{{ x is not defined }}", c), true);
    // The guard covers the value only: an undefined fallback is still an error.
    assert.equal(fails(() => renderString("{{ maybe | default(other) }}", c)).details.variable, "other");
  });

  it("default keeps null (Jinja) unless boolean=true", () => {
    assert.equal(renderString("{{ nothing | default('x') }}", ctx()), null);
    assert.equal(renderString("{{ nothing | default('x', true) }}", ctx()), "x");
    assert.equal(renderString("{{ '' | default('x', boolean=true) }}", {}), "x");
    assert.equal(renderString("{{ [] | default('x', true) }}", {}), "x");
  });

  it("loop and set variables are defined", () => {
    assert.equal(renderString("{% for i in items %}{{ i }}{{ loop.index }}{% endfor %}", ctx()), "112233");
    assert.equal(renderString("{% set y = n * 2 %}{{ y }}", ctx()), "10");
  });
});

describe("errors", () => {
  it("syntax errors name the template; checkTemplate returns them", () => {
    const err = fails(() => renderString("{{ a ", {}, { step: "s" }));
    assert.match(err.message, /^step "s": invalid template "\{\{ a": expected variable end/);
    assert.match(checkTemplate("{{ a ") ?? "", /expected variable end/);
    assert.match(checkTemplate("{% if a %}") ?? "", /endif|end of file|unexpected/i);
    assert.equal(checkTemplate("{{ a | nofilter }}"), 'unknown filter "nofilter"');
    assert.equal(checkTemplate("{{ a is nosuchtest }}"), 'unknown test "nosuchtest"');
    assert.equal(checkTemplate("{{ a.b | default(1) }} {% for x in y %}{{ x }}{% endfor %}"), undefined);
    assert.equal(checkTemplate("plain"), undefined);
  });

  it("renderValue reports the nested field path", () => {
    const err = fails(() => renderValue({ a: [1, { b: "{{ zz }}" }] }, {}, { step: "s", field: "input" }));
    assert.equal(err.message, 'step "s", field "input.a[1].b": "zz" is undefined');
    assert.equal(fails(() => renderValue(["{{ zz }}"], {})).details.field, "[0]");
  });

  it("runtime failures inside filters become TemplateErrors", () => {
    const err = fails(() => renderString("{{ 'nope' | fromjson }}", {}, { field: "f" }));
    assert.match(err.message, /^field "f": cannot render .*fromjson: invalid JSON/);
    assert.match(fails(() => renderString("{{ n.upper() }}", ctx())).message, /"n.upper" is not a method/);
  });
});

describe("renderValue", () => {
  it("renders strings in arrays and plain objects, keeps keys and other values", () => {
    const input = { "{{ n }}": "{{ n }}", list: ["{{ who }}", 2, true, null], nested: { x: "{{ items }}" } };
    assert.deepEqual(renderValue(input, ctx()), {
      "{{ n }}": 5,
      list: ["world", 2, true, null],
      nested: { x: [1, 2, 3] },
    });
    assert.equal(input["{{ n }}"], "{{ n }}", "the input is not modified");
    const date = new Date(0);
    assert.equal(renderValue(date, ctx()), date);
  });
});

describe("evaluateCondition", () => {
  it("follows Jinja truthiness", () => {
    const c = ctx();
    assert.equal(evaluateCondition(undefined, c), true);
    assert.equal(evaluateCondition(true, c), true);
    assert.equal(evaluateCondition(false, c), false);
    for (const falsy of [
      "false",
      "",
      "{{ 0 }}",
      "{{ [] }}",
      "{{ {} }}",
      "{{ nothing }}",
      "none",
      "{{ flag }}",
    ]) {
      assert.equal(evaluateCondition(falsy, c), false, falsy);
    }
    for (const yes of ["true", "{{ n }}", "{{ items }}", "{{ output.status == 'ok' }}", "yes"]) {
      assert.equal(evaluateCondition(yes, c), true, yes);
    }
    assert.equal(evaluateCondition("{% if items %} false {% endif %}", c), false);
    assert.throws(
      () => evaluateCondition("{{ missing }}", c, { step: "s" }),
      /step "s": "missing" is undefined/,
    );
  });
});

describe("Jinja semantics over JS", () => {
  it("truthiness of empty containers in if/not/and/or", () => {
    assert.equal(renderString("{% if [] %}y{% else %}n{% endif %}", {}), "n");
    assert.equal(renderString("{{ not {} }}", {}), true);
    assert.equal(renderString("{{ [] or 'x' }}", {}), "x");
    assert.deepEqual(renderString("{{ [] and 'x' }}", {}), []);
    assert.equal(renderString("{{ 'a' if [] else 'b' }}", {}), "b");
  });

  it("Python equality, list concatenation, ~", () => {
    assert.equal(renderString("{{ 1 == '1' }}", {}), false);
    assert.equal(renderString("{{ [1, {'a': 2}] == [1, {'a': 2}] }}", {}), true);
    assert.equal(renderString("{{ 1 != 2 }}", {}), true);
    assert.deepEqual(renderString("{{ items + [4] }}", ctx()), [1, 2, 3, 4]);
    assert.equal(renderString("{{ 'n=' ~ n ~ nothing }}", ctx()), "n=5");
    assert.equal(renderString("{{ (n - 2) * 2 }}", ctx()), 6);
    assert.equal(renderString("{{ 2 in items and 'x' in 'xyz' }}", ctx()), true);
  });

  it("does not write into, or copy, the caller's context", () => {
    const c = ctx();
    renderString("{% set n = 99 %}{{ n }}", c);
    assert.equal(c.n, 5);
    // A prototype-chained context (a cheap overlay an engine might build) reads through.
    const overlay = Object.create(c) as Record<string, unknown>;
    overlay.who = "overlay";
    assert.equal(renderString("{{ who }} {{ n }}", overlay), "overlay 5");
    assert.equal(renderString("{{ who | upper }} {{ n + 1 }}", overlay), "OVERLAY 6");
  });

  it("Object.prototype is not reachable", () => {
    assert.equal(fails(() => renderString("{{ constructor }}", {})).details.variable, "constructor");
    assert.equal(
      fails(() => renderString("{{ obj.constructor }}", ctx())).details.variable,
      "obj.constructor",
    );
    assert.throws(() => renderString("{{ who.constructor('x') }}", ctx()), TemplateError);
  });
});

describe("Python methods", () => {
  it("str, dict and list methods", () => {
    const c = { s: " Hello, World ", d: { k: 1, n: null }, l: [1, 2, 2] };
    const cases: [string, unknown][] = [
      ["{{ s.strip() }}", "Hello, World"],
      ["{{ s.upper() }}", " HELLO, WORLD "],
      ["{{ s.lower().strip() }}", "hello, world"],
      ["{{ s.split(',') }}", [" Hello", " World "]],
      ["{{ s.split() }}", ["Hello,", "World"]],
      ["{{ 'a,b,c'.split(',', 1) }}", ["a", "b,c"]],
      ["{{ 'a b  c'.split(None, 1) }}", ["a", "b  c"]],
      ["{{ s.strip().startswith('Hell') }}", true],
      ["{{ s.strip().startswith(('x', 'H')) }}", true],
      ["{{ s.strip().endswith('x') }}", false],
      ["{{ 'aaa'.replace('a', 'b') }}", "bbb"],
      ["{{ 'aaa'.replace('a', 'b', 2) }}", "bba"],
      ["{{ 'xxhixx'.strip('x') }}", "hi"],
      ["{{ d.get('k') }}", 1],
      ["{{ d.get('zz') }}", null],
      ["{{ d.get('zz', 'dflt') }}", "dflt"],
      ["{{ d.get('n', 'dflt') }}", null],
      ["{{ d.keys() | list }}", ["k", "n"]],
      ["{{ d.values() }}", [1, null]],
      [
        "{{ d.items() }}",
        [
          ["k", 1],
          ["n", null],
        ],
      ],
      ["{{ l.count(2) }}", 2],
      ["{{ l.index(2) }}", 1],
      ["{{ ','.join(['a', 'b']) }}", "a,b"],
      ["{{ '{}-{}'.format(1, 2) }}", "1-2"],
    ];
    for (const [src, want] of cases) assert.deepEqual(renderString(src, c), want, src);
    assert.throws(() => renderString("{{ l.append(4) }}", c), /not a method/);
  });
});

describe("caching", () => {
  it("reuses the compiled template for the same string", () => {
    for (const src of ["{{ a.b }}", "{{ a | length }}", "{% if a %}x{% endif %}", "{{ broken "]) {
      assert.equal(compileTemplate(src), compileTemplate(src), src);
    }
    assert.notEqual(compileTemplate("{{ a }} "), compileTemplate("{{ a }}  "));
  });

  it("is bounded, and keeps templates in use", () => {
    const hot = compileTemplate("{{ hot | length }}");
    for (let i = 0; i < 25_000; i++) {
      compileTemplate(`{{ v${i} }}`);
      if (i % 1000 === 0) assert.equal(compileTemplate("{{ hot | length }}"), hot);
    }
    assert.ok(templateCacheSize() <= 10_000, `cache holds ${templateCacheSize()}`);
    assert.equal(compileTemplate("{{ hot | length }}"), hot);
  });
});
