// The client's Server-Sent Events reader, on streams cut at awkward places.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readSse, type SseMessage } from "../../src/client/sse";

async function read(chunks: string[]): Promise<SseMessage[]> {
  async function* body() {
    for (const c of chunks) yield Buffer.from(c);
  }
  const out: SseMessage[] = [];
  for await (const m of readSse(body())) out.push(m);
  return out;
}

describe("readSse", () => {
  it("reads events, ids and multi-line data, skipping keep-alive comments", async () => {
    const text = 'id: 1\nevent: event\ndata: {"a":1}\n\n: keep-alive\n\nevent: end\ndata: x\ndata: y\n\n';
    assert.deepEqual(await read([text]), [
      { event: "event", data: '{"a":1}', id: "1" },
      { event: "end", data: "x\ny", id: "1" },
    ]);
  });

  it("gives the same messages whatever the chunking, with CRLF line ends and split UTF-8", async () => {
    const text = "event: event\r\ndata: ▶ start\r\n\r\ndata: plain\r\n\r\n";
    const whole = await read([text]);
    assert.deepEqual(whole, [
      { event: "event", data: "▶ start", id: undefined },
      { event: "message", data: "plain", id: undefined },
    ]);
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      async function* body() {
        yield bytes.subarray(0, cut);
        yield bytes.subarray(cut);
      }
      const out: SseMessage[] = [];
      for await (const m of readSse(body())) out.push(m);
      assert.deepEqual(out, whole, `cut at byte ${cut}`);
    }
  });

  it("drops an unfinished message at the end of the stream", async () => {
    assert.deepEqual(await read(["data: complete\n\ndata: cut off"]), [
      { event: "message", data: "complete", id: undefined },
    ]);
  });
});
