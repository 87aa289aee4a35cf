-- One account per e-mail address and per mobile number, enforced by the database
-- (the check before the insert alone lets two concurrent registrations through).
CREATE UNIQUE INDEX users_email_unique ON users (email_hmac);
CREATE UNIQUE INDEX users_mobile_unique ON users (mobile_hmac);
