-- A small database in Django's way, with what Read must tell apart.
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
INSERT INTO django_migrations (app, name, applied) VALUES ('contenttypes', '0001_initial', '2020-08-05 01:02:03'), ('auth', '0001_initial', '2020-08-05 01:02:04');
CREATE TABLE "omuser_omuser" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "username" varchar(150) NOT NULL UNIQUE, "is_active" bool NOT NULL DEFAULT 1, "note" text NULL DEFAULT 'a, b', "joined" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO omuser_omuser (username) VALUES ('admin'), ('user');
CREATE INDEX "omuser_omuser_is_active_1a2b3c4d" ON "omuser_omuser" ("is_active");
CREATE TRIGGER "omuser_touch" AFTER UPDATE ON "omuser_omuser" BEGIN SELECT 1; END;
CREATE VIEW "omuser_active" AS SELECT * FROM "omuser_omuser" WHERE "is_active";
CREATE TABLE "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NULL);
INSERT INTO "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba" (title) VALUES ('first'), ('second'), ('third');
