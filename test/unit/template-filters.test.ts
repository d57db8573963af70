// Every Jinja2 filter and test NoETL playbooks use, with Jinja2's results (not nunjucks' where they differ).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderString, TemplateError } from "../../src/template";

const ctx = {
  users: [
    { name: "bob", age: 30, role: "admin", tags: { lang: "en" } },
    { name: "Alice", age: 25, role: "dev", tags: { lang: "fr" } },
    { name: "carol", age: 35, role: "dev", tags: { lang: "en" } },
  ],
  nums: [3, 1, 2, 3],
  words: ["b", "A", "a", "c"],
  d: { b: 2, a: 1, C: 3 },
  s: "  Hello World  ",
  flag: false,
  nothing: null,
};

function check(cases: [string, unknown][]): void {
  for (const [src, want] of cases) assert.deepEqual(renderString(src, ctx), want, src);
}

describe("filters", () => {
  it("default / d", () => {
    check([
      ["{{ missing | default('x') }}", "x"],
      ["{{ missing | d(1) }}", 1],
      ["{{ missing | default }}", ""],
      ["{{ flag | default(true) }}", false],
      ["{{ flag | default(true, true) }}", true],
      ["{{ nothing | d('x', boolean=True) }}", "x"],
    ]);
  });

  it("tojson, fromjson (Jinja's HTML-safe escaping)", () => {
    check([
      ["{{ d | tojson }}", '{"b":2,"a":1,"C":3}'],
      ['{{ "it\'s <b>&" | tojson }}', '"it\\u0027s \\u003cb\\u003e\\u0026"'],
      ["{{ [1] | tojson(2) }}", "[\n  1\n]"],
      ["{{ missing | default(none) | tojson }}", "null"],
      ["{{ '{\"a\": [1, 2]}' | fromjson }}", { a: [1, 2] }],
      ["{{ ('{\"a\": 1}' | fromjson).a }}", 1],
      ["{{ d | fromjson }}", ctx.d],
      ["{{ d | tojson | fromjson }}", ctx.d],
    ]);
  });

  it("b64encode, b64decode, urlencode", () => {
    check([
      ["{{ 'héllo' | b64encode }}", "aMOpbGxv"],
      ["{{ 'aMOpbGxv' | b64decode }}", "héllo"],
      ["{{ 'a b/c&d' | urlencode }}", "a%20b/c%26d"],
      ["{{ {'q': 'a b', 'n': 1} | urlencode }}", "q=a+b&n=1"],
    ]);
  });

  it("int, float, string, bool", () => {
    check([
      ["{{ '42' | int }}", 42],
      ["{{ '3.7' | int }}", 3],
      ["{{ 'x' | int }}", 0],
      ["{{ 'x' | int(-1) }}", -1],
      ["{{ '0x1A' | int(base=16) }}", 26],
      ["{{ true | int }}", 1],
      ["{{ '2.5' | float }}", 2.5],
      ["{{ 'x' | float }}", 0],
      ["{{ 5 | string }}", "5"],
      ["{{ d | string }}", '{"b":2,"a":1,"C":3}'],
      ["{{ (5 | string) ~ 'x' }}", "5x"],
      ["{{ 'yes' | bool }}", true],
      ["{{ 'off' | bool }}", false],
      ["{{ 1 | bool }}", true],
    ]);
  });

  it("lower, upper, trim, replace, round, abs", () => {
    check([
      ["{{ s | lower }}", "  hello world  "],
      ["{{ s | upper | trim }}", "HELLO WORLD"],
      ["{{ 'xxhixx' | trim('x') }}", "hi"],
      ["{{ 5 | lower }}", "5"],
      ["{{ 'a.b.c' | replace('.', '/') }}", "a/b/c"],
      ["{{ 'a.b.c' | replace('.', '/', 1) }}", "a/b.c"],
      ["{{ 2.567 | round(2) }}", 2.57],
      ["{{ 2.5 | round }}", 3],
      ["{{ -2.5 | round }}", -3],
      ["{{ 2.1 | round(0, 'ceil') }}", 3],
      ["{{ 2.9 | round(method='floor') }}", 2],
      ["{{ -3 | abs }}", 3],
    ]);
  });

  it("length, count, first, last, join, list", () => {
    check([
      ["{{ nums | length }}", 4],
      ["{{ d | length }}", 3],
      ["{{ 'abc' | count }}", 3],
      ["{{ nums | first }}", 3],
      ["{{ nums | last }}", 3],
      ["{{ 'xyz' | last }}", "z"],
      ["{{ nums | join(',') }}", "3,1,2,3"],
      ["{{ users | join(', ', attribute='name') }}", "bob, Alice, carol"],
      ["{{ [d, 1] | join('|') }}", '{"b":2,"a":1,"C":3}|1'],
      ["{{ d | list }}", ["b", "a", "C"]],
      ["{{ 'ab' | list }}", ["a", "b"]],
    ]);
  });

  it("keys, values, items, dictsort", () => {
    check([
      ["{{ d | keys }}", ["b", "a", "C"]],
      ["{{ d | values }}", [2, 1, 3]],
      [
        "{{ d | items }}",
        [
          ["b", 2],
          ["a", 1],
          ["C", 3],
        ],
      ],
      [
        "{{ d | dictsort }}",
        [
          ["a", 1],
          ["b", 2],
          ["C", 3],
        ],
      ],
      [
        "{{ d | dictsort(true) }}",
        [
          ["C", 3],
          ["a", 1],
          ["b", 2],
        ],
      ],
      [
        "{{ d | dictsort(by='value', reverse=true) }}",
        [
          ["C", 3],
          ["b", 2],
          ["a", 1],
        ],
      ],
      ["{% for k, v in d | dictsort %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;C=3;"],
    ]);
  });

  it("map", () => {
    check([
      ["{{ users | map(attribute='name') | list }}", ["bob", "Alice", "carol"]],
      ["{{ users | map(attribute='tags.lang') | unique | list }}", ["en", "fr"]],
      ["{{ users | map(attribute='nope', default='?') | first }}", "?"],
      ["{{ ['1', '2'] | map('int') | sum }}", 3],
      ["{{ users | map(attribute='name') | map('upper') | join(',') }}", "BOB,ALICE,CAROL"],
      ["{{ ['a-b', 'c'] | map('replace', '-', '+') | list }}", ["a+b", "c"]],
    ]);
  });

  it("selectattr, rejectattr, select, reject", () => {
    check([
      [
        "{{ users | selectattr('role', 'equalto', 'dev') | map(attribute='name') | list }}",
        ["Alice", "carol"],
      ],
      ["{{ users | selectattr('role', '==', 'admin') | map(attribute='name') | first }}", "bob"],
      ["{{ users | rejectattr('role', 'eq', 'dev') | length }}", 1],
      ["{{ users | selectattr('age', '>', 28) | length }}", 2],
      ["{{ users | selectattr('tags.lang', 'in', ['fr']) | map(attribute='name') | list }}", ["Alice"]],
      ["{{ users | selectattr('email', 'defined') | list }}", []],
      ["{{ users | rejectattr('email', 'defined') | length }}", 3],
      ["{{ users | selectattr('age') | length }}", 3],
      ["{{ nums | select('odd') | list }}", [3, 1, 3]],
      ["{{ nums | reject('odd') | list }}", [2]],
      ["{{ [0, 1, '', 'x', none] | select | list }}", [1, "x"]],
      ["{{ nums | select('>=', 3) | list }}", [3, 3]],
    ]);
  });

  it("sum, min, max, unique, sort", () => {
    check([
      ["{{ nums | sum }}", 9],
      ["{{ users | sum(attribute='age') }}", 90],
      ["{{ nums | sum(start=10) }}", 19],
      ["{{ nums | min }}", 1],
      ["{{ nums | max }}", 3],
      ["{{ words | max }}", "c"],
      ["{{ words | min(case_sensitive=true) }}", "A"],
      ["{{ (users | max(attribute='age')).name }}", "carol"],
      ["{{ nums | unique | list }}", [3, 1, 2]],
      ["{{ words | unique | list }}", ["b", "A", "c"]],
      ["{{ words | unique(case_sensitive=true) | list }}", ["b", "A", "a", "c"]],
      ["{{ nums | sort }}", [1, 2, 3, 3]],
      ["{{ nums | sort(reverse=true) }}", [3, 3, 2, 1]],
      ["{{ words | sort | join }}", "Aabc"],
      ["{{ users | sort(attribute='age') | map(attribute='name') | join(',') }}", "Alice,bob,carol"],
      ["{{ users | sort(attribute='name') | map(attribute='name') | first }}", "Alice"],
      ["{{ users | sort(attribute='tags.lang', reverse=true) | map(attribute='name') | first }}", "Alice"],
    ]);
    assert.equal(ctx.nums.join(), "3,1,2,3", "sort does not mutate its input");
  });

  it("batch, attr, and nunjucks built-ins kept (title, capitalize, reverse, truncate)", () => {
    check([
      ["{{ [1, 2, 3, 4, 5] | batch(2) | list }}", [[1, 2], [3, 4], [5]]],
      [
        "{{ [1, 2, 3] | batch(2, fill_with=0) | list }}",
        [
          [1, 2],
          [3, 0],
        ],
      ],
      ["{{ (users | first) | attr('name') }}", "bob"],
      ["{{ 'hello world' | title }}", "Hello World"],
      ["{{ 'hELLO' | capitalize }}", "Hello"],
      ["{{ nums | reverse | list }}", [3, 2, 1, 3]],
      ["{{ 'abc' | reverse }}", "cba"],
    ]);
  });

  it("bad arguments are template errors", () => {
    assert.throws(
      () => renderString("{{ nums | sort(nope=1) }}", ctx),
      (e: unknown) => {
        return e instanceof TemplateError && /unexpected keyword argument "nope"/.test(e.message);
      },
    );
    assert.throws(() => renderString("{{ nums | keys }}", ctx), /keys: expected a mapping/);
    assert.throws(() => renderString("{{ nums | map('nofilter') }}", ctx), /filter not found: nofilter/);
  });
});

describe("tests", () => {
  it("is none/number/string/mapping/sequence/in/odd/even/divisibleby/==", () => {
    check([
      ["{{ nothing is none }}", true],
      ["{{ 1 is number and 'a' is string }}", true],
      ["{{ d is mapping and nums is sequence and not (d is sequence) }}", true],
      ["{{ 3 is odd and 2 is even and 9 is divisibleby(3) }}", true],
      ["{{ 1 is eq(1) and 1 is ne(2) and 2 is gt(1) }}", true],
      ["{{ true is true and flag is false and flag is boolean }}", true],
      ["{{ 1 is integer and 1.5 is float }}", true],
    ]);
  });
});
