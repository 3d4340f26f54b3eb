ALTER TABLE invoices ADD COLUMN discount_percent INTEGER;
