CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price_cents INTEGER, stock INTEGER);
INSERT INTO products VALUES (1, 'tea', 450, 10), (2, 'coffee', 900, 0), (3, 'cocoa', NULL, 5), (4, 'mate', 700, 3);
