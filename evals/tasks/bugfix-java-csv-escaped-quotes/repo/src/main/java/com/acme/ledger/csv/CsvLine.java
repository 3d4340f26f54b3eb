package com.acme.ledger.csv;

import java.util.ArrayList;
import java.util.List;

/**
 * One line of a bank's CSV export, read as RFC 4180 describes: fields separated by a delimiter,
 * a field in double quotes may hold the delimiter, and a double quote inside a quoted field is
 * written twice ({@code "say ""hi"""} is {@code say "hi"}).
 */
public final class CsvLine {
    private CsvLine() {}

    /** Splits a line on commas. */
    public static List<String> parse(String line) {
        return parse(line, ',');
    }

    /** Splits a line on {@code delimiter}; a line that ends inside quotes is an error. */
    public static List<String> parse(String line, char delimiter) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean afterQuotes = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    quoted = false;
                    afterQuotes = true;
                } else {
                    field.append(c);
                }
            } else if (c == delimiter) {
                fields.add(field.toString());
                field.setLength(0);
                afterQuotes = false;
            } else if (c == '"' && field.length() == 0 && !afterQuotes) {
                quoted = true;
            } else if (afterQuotes) {
                throw new CsvFormatException("text after a closing quote", line, i);
            } else {
                field.append(c);
            }
        }
        if (quoted) {
            throw new CsvFormatException("unterminated quoted field", line, line.length());
        }
        fields.add(field.toString());
        return fields;
    }
}
