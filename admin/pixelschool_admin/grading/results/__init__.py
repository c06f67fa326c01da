"""What people read: grades for the LMS, the report, feedback pages, all sanitised."""
