package org.spela.speaker.core

/** Text that is not valid JSON; the message gives the position. */
class JsonException(message: String) : Exception(message)

/**
 * A small JSON reader (objects, arrays, strings, numbers, true/false/null), enough for `model.json`.
 * Objects become `Map<String, Any?>`, arrays `List<Any?>`, numbers `Double`.
 */
class Json private constructor(private val text: String) {
    private var at = 0

    private fun fail(problem: String): Nothing = throw JsonException("$problem at character $at")

    private fun skipSpace() {
        while (at < text.length && text[at].isWhitespace()) at++
    }

    private fun expect(char: Char) {
        skipSpace()
        if (at >= text.length || text[at] != char) fail("expected '$char'")
        at++
    }

    private fun value(): Any? {
        skipSpace()
        if (at >= text.length) fail("unexpected end of text")
        return when (text[at]) {
            '{' -> obj()
            '[' -> array()
            '"' -> string()
            't' -> word("true", true)
            'f' -> word("false", false)
            'n' -> word("null", null)
            else -> number()
        }
    }

    private fun word(word: String, result: Any?): Any? {
        if (!text.startsWith(word, at)) fail("unexpected token")
        at += word.length
        return result
    }

    private fun number(): Double {
        val start = at
        while (at < text.length && (text[at].isDigit() || text[at] in "+-.eE")) at++
        return text.substring(start, at).toDoubleOrNull() ?: run { at = start; fail("bad number") }
    }

    private fun string(): String {
        expect('"')
        val out = StringBuilder()
        while (true) {
            if (at >= text.length) fail("unterminated string")
            val char = text[at++]
            when (char) {
                '"' -> return out.toString()
                '\\' -> {
                    if (at >= text.length) fail("unterminated escape")
                    when (val escaped = text[at++]) {
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000C')
                        'u' -> {
                            if (at + 4 > text.length) fail("short unicode escape")
                            out.append(text.substring(at, at + 4).toInt(16).toChar())
                            at += 4
                        }
                        else -> out.append(escaped)
                    }
                }
                else -> out.append(char)
            }
        }
    }

    private fun array(): List<Any?> {
        expect('[')
        val items = ArrayList<Any?>()
        skipSpace()
        if (at < text.length && text[at] == ']') { at++; return items }
        while (true) {
            items.add(value())
            skipSpace()
            if (at < text.length && text[at] == ',') { at++; continue }
            expect(']')
            return items
        }
    }

    private fun obj(): Map<String, Any?> {
        expect('{')
        val fields = LinkedHashMap<String, Any?>()
        skipSpace()
        if (at < text.length && text[at] == '}') { at++; return fields }
        while (true) {
            skipSpace()
            val key = string()
            expect(':')
            fields[key] = value()
            skipSpace()
            if (at < text.length && text[at] == ',') { at++; continue }
            expect('}')
            return fields
        }
    }

    companion object {
        /** Parses a whole JSON document. */
        fun parse(text: String): Any? {
            val reader = Json(text)
            val result = reader.value()
            reader.skipSpace()
            if (reader.at != text.length) reader.fail("trailing characters")
            return result
        }
    }
}
