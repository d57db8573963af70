// The three ways a template can be evaluated — the lookup fast path, closures over the rewritten AST,
// nunjucks' generated code — must agree on every value and every error.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CompileResult, compileTemplate, compileWithNunjucks } from "../../src/template/compile";

const ctx = {
  n: 5,
  items: [1, 2, 3],
  nothing: null,
  flag: false,
  who: "world",
  obj: { a: 1, nested: { b: "deep" }, list: [{ k: "x" }, { k: "y" }], "dash-key": 7 },
  users: [
    { name: "a", age: 3 },
    { name: "b", age: 5 },
  ],
};

function via(t: CompileResult): string {
  return "error" in t ? `error: ${t.error}` : t.via;
}

function outcome(t: CompileResult): unknown {
  if ("error" in t) return { compileError: t.error };
  try {
    return { native: t.native, value: t.render(ctx) };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return { error: e.cause?.message ?? e.message };
  }
}

describe("evaluation paths agree", () => {
  it("fast path (plain lookups and text) vs nunjucks", () => {
    const sources = [
      "{{ n }}",
      " {{ obj.nested.b }} ",
      "{{ obj['dash-key'] }}",
      '{{ obj["nested"].b }}',
      "{{ obj.list[1].k }}",
      "a {{ items }} b {{ obj }} c {{ nothing }}",
      "{{ who }}!",
      "{{ missing }}",
      "{{ obj.nope }}",
      "{{ nothing.x }}",
      "{{ obj.list[9] }}",
      "{{ range }}x",
      "{{ constructor }}",
    ];
    for (const src of sources) {
      assert.equal(via(compileTemplate(src)), "lookups", src);
      assert.deepEqual(outcome(compileTemplate(src)), outcome(compileWithNunjucks(src, false)), src);
    }
  });

  it("closures vs nunjucks' generated code", () => {
    const sources = [
      "{{ n + 1 }}",
      "{{ n - 2 * 3 }}",
      "{{ (n - 2) * 3 }}",
      "{{ n // 2 }} {{ n % 2 }} {{ 2 ** 3 }} {{ n / 2 }}",
      "{{ -n }} {{ +n }}",
      "{{ n > 3 }} {{ n <= 3 }} {{ n == 5 }} {{ n != 5 }}",
      "{{ 2 in items }} {{ 'x' in who }} {{ 'a' in obj }}",
      "{{ items | length }}",
      "{{ items | join(', ') }}",
      "{{ users | map(attribute='name') | join }}",
      "{{ users | selectattr('age', '>', 4) | list }}",
      "{{ users | sort(attribute='age', reverse=true) | first }}",
      "{{ missing | default('d') }}",
      "{{ missing is defined }} {{ n is odd }} {{ n is divisibleby(5) }} {{ nothing is none }}",
      "{{ 'y' if flag else 'n' }}",
      "{{ 'y' if flag }}",
      "{{ flag or 'x' }} {{ n and items }} {{ not flag }}",
      "{{ [1, n, 'a'] }}",
      "{{ {'a': n, b: 2} }}",
      "{{ dict(a=1, b=n) }}",
      "{{ range(3) | list }}",
      "{{ who.upper() }} {{ obj.get('a') }} {{ obj.keys() | list }}",
      "{{ who ~ n ~ nothing }}",
      "{{ items + [4] }}",
      "{{ True }} {{ None }}",
      "{{ missing }}",
      "{{ n.upper() }}",
      "{{ nope() }}",
      "{{ n() }}",
      "{{ 'x' | fromjson }}",
      "{{ obj.missing.deeper }}",
      "{{ obj.missing | default(obj.also_missing) }}",
    ];
    for (const src of sources) {
      assert.deepEqual(
        outcome(compileWithNunjucks(src, true)),
        outcome(compileWithNunjucks(src, false)),
        src,
      );
    }
  });

  it("statements go to nunjucks", () => {
    for (const src of [
      "{% if n %}x{% endif %}",
      "{% for i in items %}{{ i }}{% endfor %}",
      "{% set y = 1 %}{{ y }}",
    ]) {
      assert.equal(via(compileTemplate(src)), "nunjucks", src);
    }
  });
});
