package org.spela.speaker.core

import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * The named metadata entries of a `.tflite` file (TFLite flatbuffer, schema 3), read without LiteRT.
 *
 * Only the model's `metadata` list and the buffers it points to are read. Every offset is checked
 * against the file's size before it is followed, so a damaged file throws [ModelFormatException]
 * instead of reading out of bounds.
 */
object TfliteMetadata {
    private const val BUFFERS_FIELD = 4
    private const val METADATA_FIELD = 6

    /** Name to bytes, in file order; where a damaged file names one entry twice, the last counts. */
    fun read(bytes: ByteArray, source: String = "model file"): Map<String, ByteArray> {
        if (bytes.size < 8 || String(bytes, 4, 4, Charsets.US_ASCII) != "TFL3") {
            throw ModelFormatException("$source is not a TFLite model (no 'TFL3' identifier at byte 4)")
        }
        val reader = Reader(bytes, source)
        val root = reader.u32(0, "the root table offset")
        val buffers = reader.tables(root, BUFFERS_FIELD, "the buffer list")
        val entries = LinkedHashMap<String, ByteArray>()
        for (entry in reader.tables(root, METADATA_FIELD, "the metadata list")) {
            val name = String(reader.bytes(entry, 0, "a metadata name"), Charsets.UTF_8)
            val index = reader.scalarU32(entry, 1, "a metadata buffer index")
            if (index >= buffers.size) {
                throw ModelFormatException("$source is damaged: metadata '$name' in buffer $index of ${buffers.size}")
            }
            entries[name] = reader.bytes(buffers[index.toInt()], 0, "metadata '$name'")
        }
        return entries
    }

    private class Reader(private val data: ByteArray, private val source: String) {
        private val buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN)

        private fun check(position: Long, size: Int, what: String) {
            if (position < 0 || position > data.size.toLong() - size) {
                throw ModelFormatException("$source is damaged: $what at byte $position lies outside its ${data.size} bytes")
            }
        }

        fun u32(position: Long, what: String): Long {
            check(position, 4, what)
            return buffer.getInt(position.toInt()).toLong() and 0xffffffffL
        }

        private fun u16(position: Long, what: String): Int {
            check(position, 2, what)
            return buffer.getShort(position.toInt()).toInt() and 0xffff
        }

        /** Absolute position of [field] of the table at [table], or -1 where the field is absent. */
        private fun field(table: Long, field: Int, what: String): Long {
            check(table, 4, what)
            val vtable = table - buffer.getInt(table.toInt()).toLong()
            val vtableSize = u16(vtable, "$what's vtable")
            if (vtableSize < 4 || vtableSize % 2 != 0) {
                throw ModelFormatException("$source is damaged: $what's vtable has size $vtableSize")
            }
            if (4 + 2 * field >= vtableSize) return -1
            val offset = u16(vtable + 4 + 2 * field, "$what's vtable")
            return if (offset == 0) -1 else table + offset
        }

        fun scalarU32(table: Long, field: Int, what: String): Long {
            val position = field(table, field, what)
            return if (position < 0) 0 else u32(position, what)
        }

        /** Position of the first element and the element count of a vector field; (0, 0) if absent. */
        private fun vector(table: Long, field: Int, itemSize: Int, what: String): Pair<Long, Long> {
            val position = field(table, field, what)
            if (position < 0) return Pair(0L, 0L)
            val start = position + u32(position, what)
            val count = u32(start, what)
            if (count * itemSize > data.size.toLong() - start - 4) {
                throw ModelFormatException("$source is damaged: $what claims $count elements, more than the file holds")
            }
            return Pair(start + 4, count)
        }

        fun tables(table: Long, field: Int, what: String): List<Long> {
            val (start, count) = vector(table, field, 4, what)
            return (0 until count).map { start + 4 * it + u32(start + 4 * it, what) }
        }

        fun bytes(table: Long, field: Int, what: String): ByteArray {
            val (start, count) = vector(table, field, 1, what)
            return data.copyOfRange(start.toInt(), (start + count).toInt())
        }
    }
}
