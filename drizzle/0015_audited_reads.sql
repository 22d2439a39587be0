CREATE TABLE "audited_reads" (
	"reader" text NOT NULL,
	"subject" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	CONSTRAINT "audited_reads_reader_subject_hour_pk" PRIMARY KEY("reader","subject","hour")
);
