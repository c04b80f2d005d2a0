/** The protocol's XML: requests as each SDK writes them, answers as the strictest SDK reads them. */
import { describe, expect, it } from "vitest";
import { childText, escapeXml, fieldsDocument, isXmlText, MalformedXmlError, parseXml } from "./xml.js";

describe("parseXml", () => {
  it("reads the Node SDK's publish body: CDATA, unescaped content, the namespace with a slash", () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mq.aliyuncs.com/doc/v1/"><MessageBody><![CDATA[hello <&> 世界]]></MessageBody><MessageTag><![CDATA[TagA]]></MessageTag><Properties><![CDATA[a:1|KEYS:K1]]></Properties></Message>',
    );
    expect(root.name).toBe("Message");
    expect(childText(root, "MessageBody")).toBe("hello <&> 世界");
    expect(childText(root, "MessageTag")).toBe("TagA");
    expect(childText(root, "Properties")).toBe("a:1|KEYS:K1");
  });

  it("reads entity-escaped text (Java, Python, Go), pretty-printing and character references", () => {
    const root = parseXml(`<?xml version="1.0"?>
<ReceiptHandles>
  <ReceiptHandle>a&amp;b &lt;c&gt; &#65;&#x42;</ReceiptHandle>
  <ReceiptHandle>h2</ReceiptHandle>
  <Empty/>
</ReceiptHandles>`);
    expect(root.children.map((c) => [c.name, c.text])).toEqual([
      ["ReceiptHandle", "a&b <c> AB"],
      ["ReceiptHandle", "h2"],
      ["Empty", ""],
    ]);
  });

  it("refuses what is not well-formed, and any DOCTYPE", () => {
    const bad = [
      "",
      "<Message>",
      "<Message><MessageBody>x</Message>",
      "<Message>a & b</Message>",
      "<Message>&bogus;</Message>",
      "<Message><![CDATA[a]]>]]></Message>",
      "<a/><b/>",
      '<!DOCTYPE x [<!ENTITY e "boom">]><Message>&e;</Message>',
      "<Message>&#0;</Message>",
      "text",
      `<a${" ".repeat(5000)}x>`,
      "<a>".repeat(9) + "</a>".repeat(9),
      `<R>${"<H/>".repeat(1100)}</R>`,
    ];
    for (const text of bad) expect(() => parseXml(text), text).toThrow(MalformedXmlError);
  });
});

describe("writing answers", () => {
  it("escapes & < >, keeps a carriage return, replaces what XML cannot carry", () => {
    expect(escapeXml("a & b < c > d \"q\" 'x'")).toBe("a &amp; b &lt; c &gt; d \"q\" 'x'");
    expect(escapeXml("line\r\nnext")).toBe("line&#13;\nnext");
    expect(escapeXml("nul\u0000bell\u0007")).toBe("nul\uFFFDbell\uFFFD");
    expect(isXmlText("tab\tok")).toBe(true);
    expect(isXmlText("bell\u0007")).toBe(false);
  });

  it("round-trips text through a document and the parser", () => {
    const text = "  a & b <c> ]]> \r\n 世界  ";
    const root = parseXml(
      fieldsDocument("Message", [
        ["MessageBody", text],
        ["Absent", undefined],
      ]),
    );
    expect(childText(root, "MessageBody")).toBe(text);
    expect(childText(root, "Absent")).toBeUndefined();
  });

  it("writes the declaration and the namespace the Java SDK requires, no attributes on children", () => {
    expect(fieldsDocument("Error", [["Code", "X"]])).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error xmlns="http://mq.aliyuncs.com/doc/v1">\n  <Code>X</Code>\n</Error>\n',
    );
  });
});
