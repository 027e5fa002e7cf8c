CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, country TEXT);
INSERT INTO customers VALUES
  (1, 'Ada', 'ADA@Mail.org', 'GB'),
  (2, 'Test', 'qa@example.test', 'DE'),
  (3, 'Lin', NULL, 'CN'),
  (4, 'Ola', 'ola@mail.no', 'NO');
