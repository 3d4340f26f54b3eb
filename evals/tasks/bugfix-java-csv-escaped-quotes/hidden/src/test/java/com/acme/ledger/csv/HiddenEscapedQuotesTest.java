package com.acme.ledger.csv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class HiddenEscapedQuotesTest {

    @Test
    void doubledQuoteInsideQuotesIsOneQuote() {
        assertEquals(List.of("say \"hi\"", "1"), CsvLine.parse("\"say \"\"hi\"\"\",1"));
        assertEquals(List.of("5\" pipe"), CsvLine.parse("\"5\"\" pipe\""));
        assertEquals(List.of("\""), CsvLine.parse("\"\"\"\""));
    }

    @Test
    void escapedQuotesNextToTheDelimiter() {
        assertEquals(
                List.of("2024-03-02", "Transfer \"rent, March\"", "-950.00"),
                CsvLine.parse("2024-03-02,\"Transfer \"\"rent, March\"\"\",-950.00"));
    }

    @Test
    void emptyQuotedFieldStaysEmpty() {
        assertEquals(List.of("", "x"), CsvLine.parse("\"\",x"));
    }

    @Test
    void malformedLinesStillRejected() {
        assertThrows(CsvFormatException.class, () -> CsvLine.parse("\"open,1"));
        assertThrows(CsvFormatException.class, () -> CsvLine.parse("\"a\"b,c"));
        assertThrows(CsvFormatException.class, () -> CsvLine.parse("\"a\"\"b"));
    }
}
