import { describe, expect, it } from "vitest";
import { lineColumn, locateJsonError, parseTreeText } from "../../src/tree/index.js";
import { fixture, inputError } from "./helpers.js";

describe("parseTreeText", () => {
  it("parses JSON", () => {
    const doc = parseTreeText(fixture("etl.json"), "etl.json") as { name: string; tasks: unknown[] };
    expect(doc.name).toBe("etl");
    expect(doc.tasks).toHaveLength(3);
  });

  it("parses YAML when the name ends in .yaml or .yml, to the same value as the JSON file", () => {
    const json = parseTreeText(fixture("etl.json"), "etl.json");
    expect(parseTreeText(fixture("etl.yaml"), "etl.yaml")).toEqual(json);
    expect(parseTreeText(fixture("etl.yaml"), "dir/ETL.YML")).toEqual(json);
  });

  it("reads YAML text as JSON when the name does not say YAML", () => {
    inputError(() => parseTreeText("name: x\ntasks: []\n", "tree.json"), "tree.json: invalid JSON at line 1 column 2: Unexpected token 'a'");
  });

  it("ignores a UTF-8 byte order mark", () => {
    expect(parseTreeText('\uFEFF{"tasks": []}', "t.json")).toEqual({ tasks: [] });
    expect(parseTreeText("\uFEFFtasks: []\n", "t.yml")).toEqual({ tasks: [] });
  });

  it("reports malformed JSON with line and column taken from the position in the message", () => {
    // "Expected double-quoted property name in JSON at position 16" → the `}` on line 3
    const text = '{\n  "a": 1,\n    }';
    const err = inputError(() => parseTreeText(text, "tree.json"), /^tree\.json: invalid JSON at line 3 column 5: /);
    expect(err.message).toMatch(/property name/);
    expect(err.message).not.toMatch(/position/);
  });

  it("locates JSON errors whose message has no position (trailing comma, bad literal)", () => {
    // V8 says `Unexpected token ']', ..."…" is not valid JSON` with the source quoted over several lines
    const err = inputError(() => parseTreeText(fixture("broken.json"), "broken.json"), "broken.json: invalid JSON at line 5 column 3: ");
    expect(err.message).toContain("Unexpected token ']'");
    expect(err.message).not.toContain("is not valid JSON");
    inputError(() => parseTreeText('{"a":\n  tru}', "t.json"), "t.json: invalid JSON at line 2 column 6");
  });

  it("reports the end of input for truncated JSON", () => {
    inputError(() => parseTreeText('{\n  "tasks": [', "t.json"), "t.json: invalid JSON at line 2 column 13: Unexpected end of JSON input");
  });

  it("reports malformed YAML with line and column on one line", () => {
    const err = inputError(() => parseTreeText(fixture("broken.yaml"), "broken.yaml"), /^broken\.yaml: invalid YAML at line \d+ column \d+: \S/);
    expect(err.message).not.toContain("^");
    inputError(() => parseTreeText("a: 1\na: 2\n", "dup.yml"), "dup.yml: invalid YAML at line 2 column 1: Map keys must be unique");
  });

  it("reports YAML errors that have no position", () => {
    inputError(() => parseTreeText("x: *nope\n", "t.yaml"), /^t\.yaml: invalid YAML: .*alias/i);
  });
});

describe("locateJsonError / lineColumn", () => {
  it("returns null for valid JSON and the offset of the first error otherwise", () => {
    for (const ok of ['{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]}', "  [] ", '"s"', "0"]) {
      expect(locateJsonError(ok), ok).toBeNull();
    }
    expect(locateJsonError("[1,]")).toBe(3);
    expect(locateJsonError('{"a" 1}')).toBe(5);
    expect(locateJsonError("[01]")).toBe(2);
    expect(locateJsonError('"a\nb"')).toBe(2);
    expect(locateJsonError("[1] x")).toBe(4);
    expect(locateJsonError("[1")).toBe(2);
  });

  it("counts lines and columns from 1", () => {
    expect(lineColumn("ab\ncd", 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn("ab\r\ncd", 4)).toEqual({ line: 2, column: 1 });
  });
});
