// A tiny strict XML reader for checking junit.xml without a dependency: it rejects what CI
// parsers reject (bad nesting, unknown entities, raw `<` or `&`, invalid characters, two roots).

/** An element of the parsed tree. */
export interface XmlElement {
  name: string
  attrs: Record<string, string>
  children: XmlElement[]
  text: string
}

const NAME = /^[A-Za-z_][\w.-]*$/
const INVALID = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/

function decode(raw: string, where: string): string {
  if (raw.includes('<')) throw new Error(`raw '<' in ${where}`)
  return raw.replace(/&([^;]*);?/g, (m, ent: string) => {
    if (!m.endsWith(';')) throw new Error(`unterminated entity in ${where}: ${m}`)
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
    if (ent in named) return named[ent] as string
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(ent)
    if (!num) throw new Error(`unknown entity &${ent}; in ${where}`)
    const code = ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10)
    const ch = String.fromCodePoint(code)
    if (INVALID.test(ch)) throw new Error(`invalid character reference &${ent}; in ${where}`)
    return ch
  })
}

/** Parse a whole document; throws on anything not well-formed. */
export function parseXml(xml: string): XmlElement {
  if (INVALID.test(xml)) throw new Error('document contains characters XML 1.0 forbids')
  const src = xml.replace(/^<\?xml[^?]*\?>\s*/, '')
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' }
  const stack: XmlElement[] = [root]
  let i = 0
  while (i < src.length) {
    const top = stack[stack.length - 1] as XmlElement
    const lt = src.indexOf('<', i)
    const text = src.slice(i, lt === -1 ? src.length : lt)
    if (text.trim() !== '' && stack.length === 1) throw new Error(`text outside the root: ${text.slice(0, 40)}`)
    top.text += decode(text, `<${top.name}>`)
    if (lt === -1) break
    const gt = src.indexOf('>', lt)
    if (gt === -1) throw new Error('unterminated tag')
    const tag = src.slice(lt + 1, gt)
    i = gt + 1
    if (tag.startsWith('/')) {
      const open = stack.pop()
      if (!open || open.name !== tag.slice(1).trim() || stack.length === 0) throw new Error(`mismatched </${tag.slice(1)}>`)
      continue
    }
    const selfClosing = tag.endsWith('/')
    const m = /^([^\s/]+)((?:\s+[^\s=]+="[^"]*")*)\s*\/?$/.exec(tag)
    if (!m || !NAME.test(m[1] as string)) throw new Error(`malformed tag <${tag}>`)
    const el: XmlElement = { name: m[1] as string, attrs: {}, children: [], text: '' }
    for (const [, k, v] of (m[2] as string).matchAll(/([^\s=]+)="([^"]*)"/g)) {
      if (!NAME.test(k as string) || (k as string) in el.attrs) throw new Error(`bad attribute ${k} on <${el.name}>`)
      el.attrs[k as string] = decode(v as string, `${el.name}@${k}`)
    }
    if (stack.length === 1 && root.children.length > 0) throw new Error('more than one root element')
    top.children.push(el)
    if (!selfClosing) stack.push(el)
  }
  if (stack.length !== 1) throw new Error(`unclosed <${(stack[stack.length - 1] as XmlElement).name}>`)
  const doc = root.children[0]
  if (!doc) throw new Error('no root element')
  return doc
}

/** All descendants named `name`, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)])
}
