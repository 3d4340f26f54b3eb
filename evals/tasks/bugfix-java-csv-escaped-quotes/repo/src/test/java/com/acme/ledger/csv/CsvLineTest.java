package com.acme.ledger.csv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CsvLineTest {

    @Test
    void splitsPlainFields() {
        assertEquals(List.of("2024-03-01", "Coffee", "-3.20"), CsvLine.parse("2024-03-01,Coffee,-3.20"));
    }

    @Test
    void keepsEmptyFields() {
        assertEquals(List.of("", "b", ""), CsvLine.parse(",b,"));
    }

    @Test
    void quotedFieldMayHoldTheDelimiter() {
        assertEquals(List.of("ACME, Inc.", "12.00"), CsvLine.parse("\"ACME, Inc.\",12.00"));
    }

    @Test
    void otherDelimiters() {
        assertEquals(List.of("a", "b;c"), CsvLine.parse("a;\"b;c\"", ';'));
    }

    @Test
    void rejectsUnterminatedQuotes() {
        CsvFormatException error = assertThrows(CsvFormatException.class, () -> CsvLine.parse("\"open,1"));
        assertEquals(7, error.position());
    }

    @Test
    void rejectsTextAfterClosingQuote() {
        assertThrows(CsvFormatException.class, () -> CsvLine.parse("\"a\"b,c"));
    }
}
