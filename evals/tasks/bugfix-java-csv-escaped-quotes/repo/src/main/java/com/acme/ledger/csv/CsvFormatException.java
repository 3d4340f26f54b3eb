package com.acme.ledger.csv;

/** A line that is not valid CSV; carries the line and where reading stopped. */
public final class CsvFormatException extends IllegalArgumentException {
    private final String line;
    private final int position;

    public CsvFormatException(String message, String line, int position) {
        super(message + " at column " + (position + 1) + " of: " + line);
        this.line = line;
        this.position = position;
    }

    public String line() {
        return line;
    }

    public int position() {
        return position;
    }
}
