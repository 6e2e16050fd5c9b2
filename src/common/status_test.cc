#include "txflow/status.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.Class(), ErrorClass::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, ClassesTellTheCallerWhatToDo) {
  EXPECT_EQ(Status::Unavailable("x").Class(), ErrorClass::kRetryable);
  EXPECT_EQ(Status::NotFound("x").Class(), ErrorClass::kNotFound);
  EXPECT_EQ(Status::IOError("x").Class(), ErrorClass::kFatal);
  EXPECT_EQ(Status::NoSpace("x").Class(), ErrorClass::kFatal);
  EXPECT_EQ(Status::PermissionDenied("x").Class(), ErrorClass::kFatal);
  EXPECT_TRUE(Status::Unavailable("x").IsRetryable());
  EXPECT_FALSE(Status::AlreadyExists("x").IsRetryable());
}

TEST(Status, WithContextPrefixesMessageAndKeepsCode) {
  Status s = Status::NotFound("no such object").WithContext("s3://b/k");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "s3://b/k: no such object");
  EXPECT_TRUE(Status::OK().WithContext("ignored").ok());
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  TXFLOW_ASSIGN_OR_RETURN(int h, Half(x));
  TXFLOW_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Result, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Result, BuiltFromOkStatusIsAnError) {
  Result<int> r{Status::OK()};
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.status().ok());
}

}  // namespace
}  // namespace txflow
