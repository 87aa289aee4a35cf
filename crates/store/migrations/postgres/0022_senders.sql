-- Files others sent in about a candidate (东莞 初选 “征求市直相关部门的意见”): the office
-- attaches them with the sender's name, asked on the upload and kept with the file.
-- Empty for the materials that do not ask.
ALTER TABLE uploads ADD COLUMN sender TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN sender TEXT NOT NULL DEFAULT '';
