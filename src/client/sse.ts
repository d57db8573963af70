// A Server-Sent Events reader (the WHATWG event-stream format): frames separated by a blank
// line, `event:`, `data:` (joined by newlines when repeated), `id:`; lines starting with ':' are
// comments (keep-alives) and are skipped.

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

export async function* readSse(body: AsyncIterable<Buffer | string>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of body) {
    buffer += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl = buffer.search(/\r\n|\r|\n/);
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      // A lone '\r' at the end of a chunk may be the first half of '\r\n': wait for more.
      if (buffer[nl] === "\r" && nl === buffer.length - 1) break;
      buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
      if (line === "") {
        if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
        event = "";
        data = [];
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") id = value;
      }
      nl = buffer.search(/\r\n|\r|\n/);
    }
  }
}
